/**
 * Shapes shared by the harness, the scenarios and the printer. A scenario only produces
 * rows; judging them (ratio, ok) and printing them is the harness's job, so every scenario
 * is reported the same way.
 */

/** A goal a metric must meet. `=` compares strings or numbers exactly. */
export interface Target {
  op: ">=" | "<=" | "=";
  value: number | string;
}

export interface Row {
  metric: string;
  value: number | string;
  /** Printed after numbers: "req/s", "ms", "MB", … */
  unit?: string;
  target?: Target;
  /**
   * The same metric measured on the bare-framework ceiling (same machine, same load
   * settings), in the same unit. `ratio` is value / ceiling.
   */
  ceiling?: number;
  /** Overrides the verdict computed from `target` when a check is not a simple comparison. */
  ok?: boolean;
  /** Detail shown under the table (status-code breakdown, sample bodies, …). */
  note?: string;
}

/** A row after the harness judged it; this is what `--json` prints. */
export interface JudgedRow extends Row {
  ratio: number | null;
  /** null: the row is informational (no target). */
  pass: boolean | null;
}

/** Load settings every scenario uses, so servers and ceilings are measured alike. */
export interface BenchSettings {
  /** Measured autocannon run, seconds (BENCH_DURATION). */
  durationSeconds: number;
  /** Discarded autocannon run before it, seconds (BENCH_WARMUP). */
  warmupSeconds: number;
  /** Concurrent connections (BENCH_CONNECTIONS). */
  connections: number;
}

export interface ScenarioContext {
  settings: BenchSettings;
  /** Progress goes to stderr so stdout stays clean for the table or `--json`. */
  log(message: string): void;
  /** Sub-parts chosen on the command line (all of the scenario's by default; empty if it has none). */
  parts: string[];
}

export type Scenario = (context: ScenarioContext) => Promise<Row[]>;
