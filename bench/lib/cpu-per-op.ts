/**
 * CPU time per operation, per process, over a measured window: each process's utime + stime
 * (/proc/<pid>/stat) read when the window opens and again when it closes, so the figure is
 * exact to a clock tick (10 ms) however short the window, and whole-machine busy time from
 * /proc/stat beside it. Processes are grouped by role, so Brigade's split and its ceiling's
 * (etcd, a hello-world, the outbox floor) line up row by row and a gap is located in a process,
 * not argued:
 *
 * - server: the process under test;
 * - PostgreSQL: the postmaster listening on the bench's port, its shared background processes
 *   (WAL writer, checkpointer, …) and the backends of the measured database (each backend's
 *   process title names its database: other databases' work on the same server is not
 *   counted), re-listed when the window closes, so a backend that connected meanwhile counts
 *   from zero (one that exited meanwhile is lost: pools keep theirs);
 * - NATS: the nats-server listening on the bench's NATS port;
 * - load generator: the harness (autocannon runs in it) and any load child process.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { machineTicks, processTicks, TICKS_PER_SECOND } from "./proc.js";
import type { Row } from "./types.js";

/** A role and how to find its processes (called when the window opens and when it closes). */
export interface CpuGroup {
  name: string;
  pids: () => number[];
}

/** Where a group's processes' CPU went during one window, in milliseconds. */
export interface CpuSpent {
  seconds: number;
  groups: { name: string; ms: number; pids: number }[];
  /** Busy time of all CPUs together (every process, plus kernel work such as loopback networking). */
  machineMs: number;
}

/** CPU milliseconds per operation, per role, and the operations they were divided by. */
export interface CpuPerOp {
  operations: number;
  seconds: number;
  groups: { name: string; msPerOp: number }[];
  machineMsPerOp: number;
}

const ticksToMs = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;

/** The pid listening on a TCP port on this machine (from /proc/net/tcp{,6} and the processes' sockets), or null. */
export function listenerOf(port: number): number | null {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the socket's inode is column 10.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === "0A" && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return null;
}

/** A process and those of its children that `keep` accepts, by their command line (process title). */
export function withChildren(parent: number, keep: (title: string) => boolean = () => true): number[] {
  const pids = [parent];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || processTicks(pid)?.ppid !== parent) continue;
    let title = "";
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (keep(title)) pids.push(Number(pid));
  }
  return pids;
}

/**
 * A backend's title is `postgres: <cluster>: <user> <database> <host>(<port>) <activity>`; a
 * background process's has no client address.
 */
export const servesDatabase = (database: string) => (title: string) => {
  const backend = /^postgres: \S+: (\S+) (\S+) \S*\(\d+\)/.exec(title);
  return !backend || backend[2] === database;
};

const portOf = (url: string, fallback: number) => Number(new URL(url.split(",")[0]!.replace(/^nats:/, "http:")).port || fallback);

/**
 * The roles of one measurement: `server`; the bench's PostgreSQL as `database` uses it (false:
 * a ceiling that uses none) and NATS unless left out; and the load generator: the harness plus
 * `load`.
 */
export function cpuGroups(server: number, options: { database: string | false; nats?: boolean; load?: number[] }): CpuGroup[] {
  const groups: CpuGroup[] = [{ name: "server", pids: () => [server] }];
  const { database } = options;
  if (database !== false) {
    const port = portOf(process.env.BENCH_PG_URL ?? "postgres://127.0.0.1:5432", 5432);
    let postmaster: number | null | undefined;
    groups.push({
      name: "PostgreSQL",
      pids: () => ((postmaster ??= listenerOf(port)) === null ? [] : withChildren(postmaster, servesDatabase(database))),
    });
  }
  if (options.nats !== false) {
    const port = portOf(process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222", 4222);
    let nats: number | null | undefined;
    groups.push({ name: "NATS", pids: () => ((nats ??= listenerOf(port)) === null ? [] : [nats]) });
  }
  groups.push({ name: "load generator", pids: () => [process.pid, ...(options.load ?? [])] });
  return groups;
}

/** Reads every group's ticks now; `close` reads them again and gives what was spent in between. */
export class CpuWindow {
  private constructor(
    private readonly groups: CpuGroup[],
    private readonly before: Map<number, number>[],
    private readonly machineBefore: number,
    private readonly openedAt: number,
  ) {}

  static open(groups: CpuGroup[]): CpuWindow {
    return new CpuWindow(groups, groups.map(ticksOf), machineTicks().busy, performance.now());
  }

  close(): CpuSpent {
    const seconds = (performance.now() - this.openedAt) / 1000;
    const machineMs = ticksToMs(machineTicks().busy - this.machineBefore);
    const groups = this.groups.map((group, i) => {
      const after = ticksOf(group);
      let ticks = 0;
      for (const [pid, t] of after) ticks += t - (this.before[i]!.get(pid) ?? 0);
      return { name: group.name, ms: ticksToMs(ticks), pids: after.size };
    });
    return { seconds, groups, machineMs };
  }
}

function ticksOf(group: CpuGroup): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of group.pids()) {
    const ticks = processTicks(pid)?.ticks;
    if (ticks !== undefined) out.set(pid, ticks);
  }
  return out;
}

export function perOp(spent: CpuSpent, operations: number): CpuPerOp {
  const per = (ms: number) => (operations > 0 ? ms / operations : Number.NaN);
  return {
    operations,
    seconds: spent.seconds,
    groups: spent.groups.map((g) => ({ name: g.name, msPerOp: per(g.ms) })),
    machineMsPerOp: per(spent.machineMs),
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * One row per role (server, PostgreSQL, NATS, load generator) and one for the whole machine:
 * milliseconds of CPU per operation, the ceiling's same role in the ceiling column.
 */
export function cpuPerOpRows(
  part: string,
  operation: string,
  measured: CpuPerOp | null,
  ceiling: { name: string; cpu: CpuPerOp | null },
  target?: Row["target"],
): Row[] {
  if (!measured) return [{ metric: `(${part}) CPU per ${operation}`, value: "n/a", note: "no measured window" }];
  const ceilingOf = (name: string) => ceiling.cpu?.groups.find((g) => g.name === name)?.msPerOp;
  const rows: Row[] = measured.groups.map((g) => {
    const c = ceilingOf(g.name);
    return {
      metric: `(${part}) CPU per ${operation}: ${g.name}`,
      value: round3(g.msPerOp),
      unit: "ms",
      ...(c === undefined || Number.isNaN(c) ? {} : { ceiling: round3(c) }),
    };
  });
  const c = ceiling.cpu;
  rows.push({
    metric: `(${part}) CPU per ${operation}: whole machine`,
    value: round3(measured.machineMsPerOp),
    unit: "ms",
    ...(c ? { ceiling: round3(c.machineMsPerOp) } : {}),
    ...(target ? { target } : {}),
    note:
      `utime + stime from /proc over the measured window: ${measured.operations} operations in ${measured.seconds.toFixed(1)} s` +
      (c ? `; ceiling column = ${ceiling.name}, ${c.operations} operations in ${c.seconds.toFixed(1)} s` : "") +
      "; whole machine = busy time of all CPUs (every process and the kernel) per operation",
  });
  return rows;
}
