import { Gauge, type Registry } from "prom-client";

/**
 * What this process's background loops (the grant batcher, the outbox relay, the sweepers) say of
 * their progress, for readiness and metrics: a loop whose run has been in progress longer than
 * its limit is stuck, and a process with a stuck loop should not get traffic (its requests would
 * wait on it), whatever its database and bus say.
 */
export interface LoopState {
  name: string;
  stuck: boolean;
  /** Why it is stuck, for people reading /readyz. */
  detail?: string;
}

/** One watched loop: `begin()` when a run starts, the returned function when it ends. */
export interface LoopTracker {
  begin(): () => void;
}

interface Watched {
  stuckAfterMs: number;
  /** Start times of runs in progress (several for a batcher with batches in flight). */
  running: Map<number, number>;
  next: number;
}

export class LoopWatch {
  private readonly loops = new Map<string, Watched>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Watches `name`: stuck while one of its runs has lasted more than `stuckAfterMs`. */
  track(name: string, stuckAfterMs: number): LoopTracker {
    const watched: Watched = { stuckAfterMs, running: new Map(), next: 0 };
    this.loops.set(name, watched);
    return {
      begin: () => {
        const id = watched.next++;
        watched.running.set(id, this.now());
        return () => void watched.running.delete(id);
      },
    };
  }

  states(): LoopState[] {
    const now = this.now();
    return [...this.loops].map(([name, w]) => {
      let oldest = Number.POSITIVE_INFINITY;
      for (const started of w.running.values()) oldest = Math.min(oldest, started);
      const age = now - oldest;
      if (age > w.stuckAfterMs) return { name, stuck: true, detail: `a run has been in progress for ${Math.round(age / 1000)} s` };
      return { name, stuck: false };
    });
  }
}

/** `brigade_loop_stuck{loop}` (1 when stuck) and `brigade_bus_connected`, read at each scrape. */
export function registerLoopMetrics(registry: Registry, watch: LoopWatch, busConnected: () => boolean): void {
  new Gauge({
    name: "brigade_loop_stuck",
    help: "1 when this process's background loop has had a run in progress past its limit (grant batches, outbox relay, sweepers).",
    labelNames: ["loop"],
    registers: [registry],
    collect() {
      for (const s of watch.states()) this.set({ loop: s.name }, s.stuck ? 1 : 0);
    },
  });
  new Gauge({
    name: "brigade_bus_connected",
    help: "1 while this process is connected to the event bus (always 1 for the in-process bus).",
    registers: [registry],
    collect() {
      this.set(busConnected() ? 1 : 0);
    },
  });
}
