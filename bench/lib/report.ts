/** Pieces shared by scenarios that measure a Brigade server: CPU meters, windows, report rows. */
import { availableParallelism } from "node:os";
import type { BrigadeServer } from "./brigade.js";
import type { ExitInfo } from "./child.js";
import type { LoadResult } from "./load.js";
import { CommandSampler, MachineSampler, ProcessSampler } from "./proc.js";
import type { Row, ScenarioContext } from "./types.js";

export const SAMPLE_LIMIT = 3;

/** CPU meters that run for a whole part; each phase reads them over its own window. */
export class CpuMeters {
  readonly machine = new MachineSampler();
  readonly postgres = new CommandSampler("postgres");
  /** This process: the load generator (autocannon) and the harness. */
  readonly harness = new ProcessSampler(process.pid);

  stop(): void {
    this.machine.stop();
    this.postgres.stop();
    this.harness.stop();
  }
}

export type Window = readonly [from: number, to: number];
export const windowOf = (load: LoadResult): Window => [load.window.from, load.window.to];

export const describeRun = (s: ScenarioContext["settings"], connections = s.connections) =>
  `${connections} connections, ${s.warmupSeconds} s warm-up + ${s.durationSeconds} s`;

export const optionalCeiling = (ceiling: number | null | undefined) => (ceiling === null || ceiling === undefined ? {} : { ceiling });

/** What a stopped Brigade leaves to report: its log, its exit, and where its CPU went. */
export interface ServerReport {
  logProblems: { count: number; samples: string[] };
  exit: ExitInfo;
  peakRssMB: number;
  cores: number | null;
  postgresCores: number | null;
  harnessCores: number | null;
  machineCores: number | null;
}

export function serverReport(
  brigade: BrigadeServer,
  cpu: CpuMeters,
  window: Window | null,
  logProblems: ServerReport["logProblems"],
  exit: ExitInfo,
): ServerReport {
  return {
    logProblems,
    exit,
    peakRssMB: brigade.process.stats.peakMB(),
    cores: window ? brigade.process.stats.cores(...window) : null,
    postgresCores: window ? cpu.postgres.cores(...window) : null,
    harnessCores: window ? cpu.harness.cores(...window) : null,
    machineCores: window ? cpu.machine.busyCores(...window) : null,
  };
}

/** CPU, log and shutdown rows for one part's Brigade; `ceiling` is what the reference used. */
export function serverRows(
  part: string,
  r: ServerReport,
  ceiling: { cores?: number | null; harnessCores?: number | null; machineCores?: number | null; name: string },
): Row[] {
  const cleanExit = r.exit.code === 0 && !r.exit.forced;
  return [
    {
      metric: `(${part}) CPU: server`,
      value: r.cores ?? "n/a",
      unit: "cores",
      ...optionalCeiling(ceiling.cores),
      note: `measured run; ceiling column = ${ceiling.name}`,
    },
    { metric: `(${part}) CPU: PostgreSQL (all backends)`, value: r.postgresCores ?? "n/a", unit: "cores" },
    { metric: `(${part}) CPU: load generator`, value: r.harnessCores ?? "n/a", unit: "cores", ...optionalCeiling(ceiling.harnessCores) },
    {
      metric: `(${part}) CPU: whole machine`,
      value: r.machineCores ?? "n/a",
      unit: "cores",
      ...optionalCeiling(ceiling.machineCores),
      note: `busy cores of ${availableParallelism()} during the measured run: every process, plus kernel time (loopback networking)`,
    },
    {
      metric: `(${part}) server log lines (≥ warn)`,
      value: r.logProblems.count,
      target: { op: "=", value: 0 },
      ...(r.logProblems.count > 0 ? { note: r.logProblems.samples.join(" | ").slice(0, 600) } : {}),
    },
    {
      metric: `(${part}) clean shutdown on SIGTERM`,
      value: cleanExit ? "yes" : "no",
      target: { op: "=", value: "yes" },
      ...(cleanExit
        ? {}
        : { note: `exit code ${r.exit.code}, signal ${r.exit.signal}${r.exit.forced ? ", killed after grace period" : ""}` }),
    },
  ];
}

/** Non-2xx and connection-error rows of a measured run (warm-up included). */
export function errorRows(part: string, what: string, runs: { warmup: LoadResult | null; measured: LoadResult }, samples: string[]): Row[] {
  const { warmup, measured } = runs;
  const non2xx = measured.non2xx + (warmup?.non2xx ?? 0);
  const errors = measured.errors + (warmup?.errors ?? 0);
  const codes = Object.entries(measured.statusCodes)
    .map(([code, n]) => `${code}×${n}`)
    .join(", ");
  return [
    {
      metric: `(${part}) ${what} non-2xx`,
      value: non2xx,
      target: { op: "=", value: 0 },
      ...(non2xx > 0
        ? {
            note: `status codes (measured run): ${codes}; warm-up non-2xx: ${warmup?.non2xx ?? 0}; samples: ${samples.join(" | ").slice(0, 600)}`,
          }
        : {}),
    },
    {
      metric: `(${part}) ${what} errors (conn/timeout)`,
      value: errors,
      target: { op: "=", value: 0 },
      ...(errors > 0 ? { note: `timeouts: ${measured.timeouts + (warmup?.timeouts ?? 0)}` } : {}),
    },
  ];
}
