/** The CLI as a user runs it: a real server on loopback, real git repositories, `brigade` as a process. */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createUser, startTestApp, type TestApp } from "../helpers/app.js";

type Tap = { teardown(fn: () => unknown): void };

export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** tsx resolved from here, so the CLI runs from any folder (a temporary repository). */
export const TSX = import.meta.resolve("tsx");

export interface Server extends TestApp {
  url: string;
}

export async function startServer(t: Tap, env: Record<string, string> = {}): Promise<Server> {
  const built = await startTestApp(t, env);
  const url = await built.app.listen({ port: 0, host: "127.0.0.1" });
  return { ...built, url };
}

export function tempDir(t: Tap, prefix = "brigade-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** A fresh repository whose origin names `remote` (pushes go to `pushUrl` when given). */
export function gitRepo(dir: string, remote = "git@github.com:acme/api.git", pushUrl?: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", "dev@example.com");
  git(dir, "config", "user.name", "Dev");
  git(dir, "remote", "add", "origin", remote);
  if (pushUrl) git(dir, "config", "remote.origin.pushurl", pushUrl);
  writeFileSync(join(dir, "README.md"), "hello\n");
  git(dir, "add", "README.md");
  git(dir, "commit", "-q", "-m", "init");
  return dir;
}

/**
 * Commits these files (placeholder content) to the repository: with the repository's file list
 * uploaded at session start, overlaps on existing files are real and block, while overlaps only on
 * paths that do not exist are latent and do not.
 */
export function commitFiles(dir: string, files: string[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), `// ${file}\n`);
  }
  git(dir, "add", ...files);
  git(dir, "commit", "-q", "-m", "files");
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment a user's shell would give brigade: an empty home of its own, the server and a token. */
export function userEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env["PATH"],
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    GIT_CONFIG_NOSYSTEM: "1",
    LANG: "C.UTF-8",
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs a command (a git command, or the CLI through `brigade()`), feeding `input` on stdin. */
export function exec(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    // A command that never reads its input may exit first and close the pipe (EPIPE): its exit
    // code and output are what the test judges, not our write.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export const brigade = (args: string[], options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number }) =>
  exec(process.execPath, ["--import", TSX, CLI, ...args], options);

/** Two members of the default organisation, each with a personal token. */
export async function twoUsers(server: Server) {
  const alice = await createUser(server.app, server.rootToken, "member");
  const bob = await createUser(server.app, server.rootToken, "member");
  return { alice, bob };
}

/** Lines of stderr, without tsx's or node's noise. */
export const errLines = (r: Result) => r.stderr.split("\n").filter((l) => l.trim() !== "");

/** A pass-through HTTP proxy in front of the server that lists every request it forwards. */
export async function countingProxy(t: { teardown(fn: () => unknown): void }, target: string, port = 0) {
  const seen: string[] = [];
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const upstream = request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (err) => res.writeHead(502).end(String(err)));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  /** Stops it (nothing listens on its port any more); again is harmless. */
  const close = () => {
    proxy.closeAllConnections();
    return new Promise<void>((resolve) => proxy.close(() => resolve()));
  };
  t.teardown(close);
  const listening = (proxy.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${listening}`, port: listening, seen, close };
}
