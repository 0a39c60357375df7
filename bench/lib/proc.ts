/**
 * Linux /proc sampling: memory and CPU of a server child, and CPU of the whole machine.
 * Polled from the outside so the server under test needs no instrumentation, and read
 * synchronously because each read is a few microseconds of kernel-generated text.
 */
import { readdirSync, readFileSync } from "node:fs";

/** /proc counts CPU time in clock ticks; USER_HZ is 100 on every mainstream Linux build. */
export const TICKS_PER_SECOND = 100;
const SAMPLE_INTERVAL_MS = 200;

interface Sample {
  at: number;
  /** Cumulative CPU time, in ticks. */
  ticks: number;
}

/** CPU cores used between two samples bracketing [from, to]: 1.0 = one core fully busy. */
function coresBetween(samples: Sample[], from: number, to: number): number | null {
  const first = samples.find((s) => s.at >= from);
  // Samples are in time order: the last one inside the window is the last one not after `to`.
  let last: Sample | undefined;
  for (const s of samples) if (s.at <= to) last = s;
  if (!first || !last || last.at - first.at < SAMPLE_INTERVAL_MS) return null;
  return (last.ticks - first.ticks) / TICKS_PER_SECOND / ((last.at - first.at) / 1000);
}

/** utime + stime of a process, in ticks; undefined if it is gone. */
export function processTicks(pid: number | string): { comm: string; ticks: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself hold spaces or parens; utime and
    // stime are fields 14 and 15 of the line, i.e. the 12th and 13th after the last ')' (ppid, field 4, the 2nd).
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(stat.indexOf("(") + 1, close), ticks: Number(fields[11]) + Number(fields[12]), ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Resident memory (VmRSS) and CPU time of one process. */
export class ProcessSampler {
  private readonly samples: (Sample & { rssKb: number })[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  private sample(): void {
    try {
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
      const cpu = processTicks(this.pid);
      if (rss && cpu) this.samples.push({ at: Date.now(), rssKb: Number(rss[1]), ticks: cpu.ticks });
    } catch {
      // The process is gone (or exiting): nothing to sample.
    }
  }

  /** Peak RSS in MB, counted as /proc does: kB / 1024 (i.e. MiB). */
  peakMB(from = 0, to = Infinity): number {
    let peak = 0;
    for (const s of this.samples) if (s.at >= from && s.at <= to && s.rssKb > peak) peak = s.rssKb;
    return peak / 1024;
  }

  latestMB(): number {
    return (this.samples.at(-1)?.rssKb ?? 0) / 1024;
  }

  /** Average cores this process used in [from, to] (null: window shorter than a sample). */
  cores(from: number, to: number): number | null {
    return coresBetween(this.samples, from, to);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/**
 * CPU of every process with a given command name, e.g. all PostgreSQL backends (one per
 * connection, so no single pid to follow). A backend's ticks count from its first sample, or
 * from zero when it appears mid-run; work of a backend that exits between samples is lost,
 * which a long-lived pool makes negligible.
 */
export class CommandSampler {
  private readonly samples: { at: number; ticks: Map<string, number> }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly comm: string) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  private sample(): void {
    const ticks = new Map<string, number>();
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const cpu = processTicks(pid);
      if (cpu?.comm === this.comm) ticks.set(pid, cpu.ticks);
    }
    this.samples.push({ at: Date.now(), ticks });
  }

  /** Average cores all matching processes used together in [from, to]. */
  cores(from: number, to: number): number | null {
    const first = this.samples.find((s) => s.at >= from);
    let last: (typeof this.samples)[number] | undefined;
    for (const s of this.samples) if (s.at <= to) last = s;
    if (!first || !last || last.at - first.at < SAMPLE_INTERVAL_MS) return null;
    let delta = 0;
    for (const [pid, ticks] of last.ticks) delta += ticks - (first.ticks.get(pid) ?? 0);
    return delta / TICKS_PER_SECOND / ((last.at - first.at) / 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Busy and total ticks summed over all CPUs, from the first line of /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Whole-machine CPU use, to tell "the server is slow" from "something else ate the CPU". */
export class MachineSampler {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  private sample(): void {
    this.samples.push({ at: Date.now(), ticks: machineTicks().busy });
  }

  /** Average busy cores in [from, to], every process on the machine included. */
  busyCores(from: number, to: number): number | null {
    return coresBetween(this.samples, from, to);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Share of all CPUs busy over the next `ms`: a pre-flight check that the machine is quiet. */
export async function machineBusyPercent(ms = 1_000): Promise<number> {
  const a = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineTicks();
  return b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;
}
