/**
 * Benchmark entry: `npm run bench -- <scenario> [--json]`.
 *
 * Progress goes to stderr; stdout carries only the result (table + summary, or JSON with
 * --json), so results can be piped or diffed. Exit status: 0 all checks passed, 1 a check
 * failed or the run broke, 2 usage error.
 *
 * Settings (environment): BENCH_DURATION (s, default 15), BENCH_WARMUP (s, default 3),
 * BENCH_CONNECTIONS (default 64); scenarios may read more (e.g. BENCH_SESSIONS). See
 * bench/README.md for the rest.
 */
import { availableParallelism, cpus, totalmem } from "node:os";
import { runCleanups } from "./lib/cleanup.js";
import { numberEnv } from "./lib/env.js";
import { machineBusyPercent } from "./lib/proc.js";
import { judge, renderNotes, renderTable } from "./lib/table.js";
import type { BenchSettings, Scenario } from "./lib/types.js";

/**
 * The registry: one line per scenario in bench/scenarios/<name>.ts. Loaded lazily so a
 * scenario with a heavy set-up costs nothing when another one runs.
 */
const scenarios: Record<string, { description: string; load: () => Promise<Scenario> }> = {
  sessions: {
    description: "10,000 live sessions; heartbeat throughput, latency and server memory vs a fastify hello-world ceiling",
    load: async () => (await import("./scenarios/sessions.js")).sessions,
  },
};

/** Above this share of CPU in use before the run, results are flagged as unreliable. */
const BUSY_WARNING_PERCENT = 20;

function usage(problem: string): never {
  const names = Object.entries(scenarios).map(([name, s]) => `  ${name.padEnd(12)} ${s.description}`);
  process.stderr.write(`${problem}\n\nusage: npm run bench -- <scenario> [--json]\n\nscenarios:\n${names.join("\n")}\n`);
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
  const names = args.filter((a) => !a.startsWith("-"));
  if (names.length !== 1) usage(names.length === 0 ? "missing scenario name" : `one scenario at a time, got: ${names.join(" ")}`);
  const name = names[0]!;
  const entry = Object.hasOwn(scenarios, name) ? scenarios[name] : undefined;
  if (!entry) usage(`unknown scenario "${name}"`);

  const settings: BenchSettings = {
    durationSeconds: numberEnv("BENCH_DURATION", 15),
    warmupSeconds: numberEnv("BENCH_WARMUP", 3),
    connections: numberEnv("BENCH_CONNECTIONS", 64),
  };
  if (settings.durationSeconds < 1 || settings.connections < 1) usage("BENCH_DURATION and BENCH_CONNECTIONS must be at least 1");

  // Ctrl-C: stop the server children and drop the bench database before leaving.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up…\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }

  const started = Date.now();
  const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
  // Numbers from a box that is already busy are not comparable with anything: say so up front.
  const busyBefore = await machineBusyPercent();
  log(`machine CPU busy before the run: ${busyBefore.toFixed(0)}%`);
  if (busyBefore > BUSY_WARNING_PERCENT) log(`WARNING: the machine is not idle (${busyBefore.toFixed(0)}% busy); results will be low and noisy`);
  const scenario = await entry.load();
  const rows = (await scenario({ settings, log })).map(judge);
  const ok = rows.every((r) => r.pass !== false);
  const info = { ...machine(), busyBeforePercent: Math.round(busyBefore) };

  if (json) {
    process.stdout.write(`${JSON.stringify({ scenario: name, ok, settings, machine: info, rows }, null, 2)}\n`);
  } else {
    const notes = renderNotes(rows);
    process.stdout.write(`\n${renderTable(rows)}\n${notes ? `\n${notes}\n` : ""}`);
    process.stdout.write(
      `\n${name}: ${ok ? "all checks passed" : "CHECKS FAILED"} | nproc ${info.nproc} (${info.cpu}), ${info.memoryGB} GB, node ${info.node}, ${info.platform}, ` +
        `${info.busyBeforePercent}% CPU busy before the run | ` +
        `${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s\n`,
    );
  }
  process.exitCode = ok ? 0 : 1;
}

try {
  await main();
} catch (err) {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
