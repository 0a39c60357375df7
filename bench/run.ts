/**
 * Benchmark entry: `npm run bench -- <scenario> [part…] [--json]`.
 *
 * Progress goes to stderr; stdout carries only the result (table + summary, or JSON with
 * --json), so results can be piped or diffed. Exit status: 0 all checks passed, 1 a check
 * failed or the run broke, 2 usage error.
 *
 * Settings (environment): BENCH_DURATION (s, default 15), BENCH_WARMUP (s, default 3),
 * BENCH_CONNECTIONS (default 64); scenarios may read more (e.g. BENCH_SESSIONS). See
 * bench/README.md for the rest.
 *
 * Brigade runs compiled, as in production: when the scenario (or the chosen parts) starts
 * it, `npm run build` runs once first and the server is `dist/server.js` with `npm start`'s node flags.
 */
import { spawn } from "node:child_process";
import { availableParallelism, constants, cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { buildOnce } from "./lib/brigade.js";
import { runCleanups } from "./lib/cleanup.js";
import { numberEnv, repoRoot } from "./lib/env.js";
import { machineBusyPercent } from "./lib/proc.js";
import { judge, renderNotes, renderTable } from "./lib/table.js";
import type { BenchSettings, Scenario } from "./lib/types.js";

/**
 * The registry: one line per scenario in bench/scenarios/<name>.ts. Loaded lazily so a
 * scenario with a heavy set-up costs nothing when another one runs.
 */
interface ScenarioEntry {
  description: string;
  load: () => Promise<Scenario>;
  /** Sub-parts that can be picked on the command line (`claims a c`); all of them by default. */
  parts?: Record<string, string>;
  /** Whether the chosen parts start Brigade (then `npm run build` runs first). */
  startsBrigade: (parts: string[]) => boolean;
}

const scenarios: Record<string, ScenarioEntry> = {
  sessions: {
    description: "10,000 live sessions; heartbeat throughput, latency and server memory vs a fastify hello-world ceiling",
    load: async () => (await import("./scenarios/sessions.js")).sessions,
    startsBrigade: () => true,
  },
  claims: {
    description:
      "claim throughput vs etcd, who-owns vs hello-world, PatternIndex overlap scaling, CODEOWNERS matching vs the codeowners package, real/latent classification against a repository tree",
    load: async () => (await import("./scenarios/claims.js")).claims,
    parts: {
      a: "claim throughput: 10,000 active claims over 50 repos, 32 clients, vs etcd put-if-absent with a lease",
      b: "who-owns: 100,000 active claims + 5,000-rule CODEOWNERS, GET /v1/repos/:repo/owners vs hello-world, server RSS",
      c: "in-process PatternIndex.overlapping() against 1,000 / 10,000 / 100,000 claims",
      d: "in-process CodeownersIndex.owners() vs the codeowners npm package, 5,000 rules",
      e: "in-process claim check + real/latent classification: 10,000 claims, 100,000-file tree; 1,000,000-file upload size and memory",
    },
    startsBrigade: (parts) => parts.includes("a") || parts.includes("b"),
  },
  alerts: {
    description: "live delivery: conflict-to-alert latency over NATS and WebSocket, WebSocket fan-out, outbox catch-up after a NATS outage",
    load: async () => (await import("./scenarios/alerts.js")).alerts,
    parts: {
      a: "conflict → holder's alert latency over NATS and WebSocket at 500 background claims/s, vs raw NATS request/reply",
      b: "one event to 1,000 WebSocket clients: latency to each, server RSS",
      c: "outbox backlog drained after a 10 s NATS outage at 500 claims/s; every event in JetStream exactly once",
    },
    startsBrigade: () => true,
  },
  messages: {
    description:
      "messaging: a directive to a 1,000-member team over 1,000 WebSockets, inbox and search over 1,000,000 messages, send latency under 500 claims/s",
    load: async () => (await import("./scenarios/messages.js")).messages,
    parts: {
      a: "a directive to a 1,000-member team, latency to each member's WebSocket vs a claim event's fan-out; server RSS",
      b: "inbox, unread inbox and full-text search over 1,000,000 messages loaded in SQL, p99 vs a hello-world",
      c: "send p99 under 500 background claims/s vs a claim's p99 in the same run",
    },
    startsBrigade: () => true,
  },
  cli: {
    description:
      "local tools end to end: check --staged with 500 files, hook pre-edit with process start, the HTTP hook with 10,000 claims, MCP claim_paths over stdio",
    load: async () => (await import("./scenarios/cli.js")).cli,
    startsBrigade: () => true,
  },
  start: {
    description: "npm start with no change since the last start: spawn to /healthz, embedded and on PostgreSQL + NATS, vs node -e 0",
    load: async () => (await import("./scenarios/start.js")).start,
    startsBrigade: () => true,
  },
  abuse: {
    description:
      "one organisation's hostile claims, checks and contracts vs another organisation's GET /v1/me: victims' p50/p99 with and without each attack",
    load: async () => (await import("./scenarios/abuse.js")).abuse,
    startsBrigade: () => true,
  },
  contracts: {
    description:
      "publish + classify successive versions of a generated 2,000-operation OpenAPI document (YAML and JSON): latency, parse/diff/store split, server RSS",
    load: async () => (await import("./scenarios/contracts.js")).contracts,
    startsBrigade: () => true,
  },
  dashboard: {
    description:
      "web dashboard in Chromium: first-load JS, render after data with 1,000 sessions and 10,000 claims, responsiveness at 100 events/s",
    load: async () => (await import("./scenarios/dashboard.js")).dashboard,
    startsBrigade: () => true,
  },
};

/** Above this share of CPU in use before the run, results are flagged as unreliable. */
const BUSY_WARNING_PERCENT = 20;

function usage(problem: string): never {
  const names = Object.entries(scenarios).flatMap(([name, s]) => [
    `  ${name.padEnd(12)} ${s.description}`,
    ...Object.entries(s.parts ?? {}).map(([part, text]) => `  ${"".padEnd(12)}   ${part}: ${text}`),
  ]);
  process.stderr.write(`${problem}\n\nusage: npm run bench -- <scenario> [part…] [--json]\n\nscenarios:\n${names.join("\n")}\n`);
  process.exit(2);
}

function machine() {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const unknownFlags = args.filter((a) => a.startsWith("-") && a !== "--json");
  if (unknownFlags.length > 0) usage(`unknown option(s): ${unknownFlags.join(" ")}`);
  const [name, ...partArgs] = args.filter((a) => !a.startsWith("-"));
  if (name === undefined) usage("missing scenario name");
  const entry = Object.hasOwn(scenarios, name) ? scenarios[name] : undefined;
  if (!entry) usage(`unknown scenario "${name}"`);
  const known = Object.keys(entry.parts ?? {});
  if (partArgs.length > 0 && known.length === 0)
    usage(`scenario "${name}" has no parts (one scenario at a time), got: ${partArgs.join(" ")}`);
  const unknownParts = partArgs.filter((p) => !known.includes(p));
  if (unknownParts.length > 0) usage(`unknown part(s) of "${name}": ${unknownParts.join(" ")} (known: ${known.join(", ")})`);
  // In the registry's order, whatever order they were typed in; none named: all.
  const parts = partArgs.length > 0 ? known.filter((p) => partArgs.includes(p)) : known;

  const settings: BenchSettings = {
    durationSeconds: numberEnv("BENCH_DURATION", 15),
    warmupSeconds: numberEnv("BENCH_WARMUP", 3),
    connections: numberEnv("BENCH_CONNECTIONS", 64),
  };
  if (settings.durationSeconds < 1 || settings.connections < 1) usage("BENCH_DURATION and BENCH_CONNECTIONS must be at least 1");

  // Ctrl-C: stop the server children, drop the bench databases and remove temp directories
  // before leaving. A second Ctrl-C does not cut the cleanup short.
  let cleaning = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (cleaning) return void process.stderr.write(`${signal}: still cleaning up…\n`);
      cleaning = true;
      process.stderr.write(`\n${signal}: cleaning up…\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }

  const started = Date.now();
  const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
  // Numbers from a box that is already busy are not comparable with anything: say so up front.
  const busyBefore = await machineBusyPercent();
  log(`machine CPU busy before the run: ${busyBefore.toFixed(0)}%`);
  if (busyBefore > BUSY_WARNING_PERCENT)
    log(`WARNING: the machine is not idle (${busyBefore.toFixed(0)}% busy); results will be low and noisy`);
  if (entry.startsBrigade(parts)) await buildOnce(log);
  const scenario = await entry.load();
  const rows = (await scenario({ settings, log, parts })).map(judge);
  const ok = rows.every((r) => r.pass !== false);
  const info = { ...machine(), busyBeforePercent: Math.round(busyBefore) };

  if (json) {
    process.stdout.write(`${JSON.stringify({ scenario: name, parts, ok, settings, machine: info, rows }, null, 2)}\n`);
  } else {
    const notes = renderNotes(rows);
    process.stdout.write(`\n${renderTable(rows)}\n${notes ? `\n${notes}\n` : ""}`);
    process.stdout.write(
      `\n${name}${parts.length > 0 ? ` ${parts.join(" ")}` : ""}: ${ok ? "all checks passed" : "CHECKS FAILED"} | nproc ${info.nproc} (${info.cpu}), ${info.memoryGB} GB, node ${info.node}, ${info.platform}, ` +
        `${info.busyBeforePercent}% CPU busy before the run | ` +
        `${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s\n`,
    );
  }
  process.exitCode = ok ? 0 : 1;
}

/**
 * `npm run bench` starts this file through tsx's CLI, which SIGKILLs its child when the child
 * does not acknowledge a Ctrl-C within ~60 ms, and a harness in the middle of a synchronous
 * micro-benchmark (claims c and d) cannot: its cleanup would never run. So this process only
 * relays signals to the real harness, a child of its own (`node --import tsx run.ts`) in its
 * own process group, which cleans up once its event loop is free (within a second or two).
 */
const HARNESS_CHILD = "BENCH_HARNESS_CHILD";

async function relay(): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    cwd: repoRoot,
    stdio: "inherit",
    detached: true,
    env: { ...process.env, [HARNESS_CHILD]: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (c, s) => resolve([c, s])),
  );
  process.exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
}

if (process.env[HARNESS_CHILD] !== "1") {
  await relay();
} else {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
}
