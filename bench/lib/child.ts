import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { onCleanup } from "./cleanup.js";
import { repoRoot, sleep } from "./env.js";
import { ProcessSampler } from "./proc.js";

/** Asks the kernel for a free port. Closing and reusing it races in theory; fine on a bench box. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when SIGTERM was not enough and the child had to be killed. */
  forced: boolean;
}

export interface StartOptions {
  /** For messages only. */
  name: string;
  /**
   * What to run, relative to the repository root. A node module: compiled JavaScript (`.js`,
   * `.mjs`) runs on plain node, as in production; a `.ts` file runs under `--import tsx`
   * (which costs the child ~30 MB RSS and start-up CPU, so servers under test avoid it).
   * Or `{ command, args }` for a program that is not node (etcd).
   */
  entry: string | { command: string; args: string[] };
  env: Record<string, string>;
  /** Extra node flags before the entry, e.g. --cpu-prof to see where a slow path spends its time. */
  nodeArgs?: string[];
  /** GET this until it answers 200. */
  readyUrl: string;
  readyTimeoutMs?: number;
}

const MAX_KEPT_LINES = 200;

/**
 * A server started as a child process, so its CPU and memory are its own (the RSS we report
 * is the server's, not the harness's plus autocannon's) and it shuts down as in production.
 */
export class ServerProcess {
  /** Memory and CPU of the child, sampled from /proc while it runs. */
  readonly stats: ProcessSampler;
  /** Output lines, the first MAX_KEPT_LINES of them; `lineCount` counts all. */
  readonly lines: { stream: "stdout" | "stderr"; text: string }[] = [];
  lineCount = 0;
  private readonly exit: Promise<ExitInfo>;
  private exited: ExitInfo | null = null;
  private readonly forgetCleanup: () => void;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exited = { code, signal, forced: false };
        resolve(this.exited);
      });
    });
    for (const [name, stream] of [
      ["stdout", child.stdout],
      ["stderr", child.stderr],
    ] as const) {
      // Always drained: a child blocked on a full pipe would look like a slow server.
      createInterface({ input: stream! }).on("line", (text) => {
        this.lineCount++;
        if (this.lines.length < MAX_KEPT_LINES) this.lines.push({ stream: name, text });
      });
    }
    this.stats = new ProcessSampler(pid);
    this.forgetCleanup = onCleanup(async () => void (await this.stop()));
  }

  static async start(options: StartOptions): Promise<ServerProcess> {
    // process.execPath: the same node that runs the harness, and the pid we sample is node's
    // own (no npm or shell wrapper in between).
    const [file, args] =
      typeof options.entry === "string"
        ? [process.execPath, [...(options.nodeArgs ?? []), ...(options.entry.endsWith(".ts") ? ["--import", "tsx"] : []), options.entry]]
        : [options.entry.command, options.entry.args];
    const child = spawn(file, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once("error", resolve));
      throw new Error(`${options.name}: could not start: ${err.message}`);
    }
    const server = new ServerProcess(options.name, child, child.pid);
    try {
      await server.waitReady(options.readyUrl, options.readyTimeoutMs ?? 60_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private async waitReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(
          `${this.name} exited (code ${this.exited.code}, signal ${this.exited.signal}) before it was ready:\n${this.outputTail()}`,
        );
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
        last = `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready at ${url} within ${timeoutMs} ms (${last}):\n${this.outputTail()}`);
  }

  outputTail(count = 20): string {
    return this.lines
      .slice(-count)
      .map((l) => `    ${l.text}`)
      .join("\n");
  }

  /** SIGTERM, as an orchestrator would; SIGKILL only if the child outlives the grace period. */
  async stop(graceMs = 15_000): Promise<ExitInfo> {
    this.forgetCleanup();
    if (!this.exited) {
      this.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), graceMs)));
      const result = await Promise.race([this.exit, timeout]);
      // Cleared so a quick exit does not keep the harness alive for the whole grace period.
      clearTimeout(timer);
      if (!result) {
        this.child.kill("SIGKILL");
        await this.exit;
        this.exited = { ...this.exited!, forced: true };
      }
    }
    this.stats.stop();
    return this.exited!;
  }
}
