import type { Db } from "../../infra/db.js";
import { GroupBatcher } from "../../infra/group-batch.js";
import { addToCounters, type CounterAddition } from "./limits.repository.js";

interface Budget {
  /** Local clock time at which the window ends. */
  endsAt: number;
  /** The shared count before this replica's latest reservation. */
  base: number;
  /** Requests that reservation granted, and how many of them this replica has used. */
  granted: number;
  used: number;
  /** The shared count reached the limit: refuse locally until the window ends. */
  spent: boolean;
  /** A reservation on its way (concurrent requests wait for it instead of sending their own). */
  pending?: Promise<void>;
}

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit whose counts every replica shares through the database: a
 * fixed-window counter per key, which a replica does not write per request but in chunks it
 * reserves (`used = used + chunk`) and then spends from memory. The chunk is never more than a
 * twentieth of the limit, so the budget a replica holds unused is small, and small limits are
 * exact (a chunk of one). Once the shared count reaches the limit the replica refuses from
 * memory until the window ends, so refused requests cost no write either. Reservations that
 * arrive together (many tokens' first requests) go to the database in one statement.
 */
export class SharedWindowStore {
  private readonly budgets = new Map<string, Budget>();
  /**
   * Reservations that arrive together share one statement: every new token's first request in a
   * window needs one, and a fleet of agents heartbeating with their own tokens would otherwise
   * cost one database write per heartbeat beside the heartbeat's own.
   */
  private readonly reservations: GroupBatcher<CounterAddition, { used: number; ttlMs: number }>;

  constructor(
    db: Db,
    private readonly maxChunk: number,
  ) {
    this.reservations = new GroupBatcher((items) => addToCounters(db, items), { maxBatch: 512, maxInFlight: 2 });
  }

  /** @fastify/rate-limit asks each route or limiter for a child store; the keys already differ. */
  child(): this {
    return this;
  }

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.take(key, timeWindow, max).then(
      (result) => callback(null, result),
      (err: Error) => callback(err),
    );
  }

  /**
   * Starts now, together, the reservations that the checks of one request will need, in the
   * order the checks run: a request whose token and sender both need a chunk (a token's first
   * request of a window) then pays one round trip instead of one per limit. A key whose limit is
   * already spent ends the list: its check refuses, and the checks after it would not run, so
   * a refused flood never reserves from the limits behind it. (Should a reservation made here
   * come back spent, the chunks reserved beside it stay unused until the window ends: one chunk
   * per key and window, at most a twentieth of its limit.)
   */
  prefetch(checks: { key: string; windowMs: number; max: number }[]): void {
    const now = Date.now();
    for (const { key, windowMs, max } of checks) {
      const budget = this.current(key, now);
      const step = nextStep(budget, max);
      if (step === "refuse") return;
      // Failures are the checks' own to report (they wait for this reservation).
      if (step === "reserve") this.reserve(key, windowMs, max, budget).catch(() => {});
    }
  }

  /**
   * Spends one request of the key's reserved chunk at once, when there is one to spend (most
   * requests): the count after it and the window's time left, as `incr` would report them.
   * Undefined when the request must wait for a reservation or be refused; `incr` decides those.
   */
  spendNow(key: string, max: number): { current: number; ttl: number } | undefined {
    const now = Date.now();
    const budget = this.current(key, now);
    if (nextStep(budget, max) !== "spend") return undefined;
    budget!.used++;
    return { current: budget!.base + budget!.used, ttl: budget!.endsAt - now };
  }

  /** Whether the key's next request would wait for a reservation (none under way, none left to spend, not spent). */
  wouldReserve(key: string): boolean {
    return nextStep(this.current(key, Date.now()), Number.POSITIVE_INFINITY) === "reserve";
  }

  /** The key's budget for the window running at `now` (an ended one is dropped). */
  private current(key: string, now: number): Budget | undefined {
    const budget = this.budgets.get(key);
    if (budget && budget.endsAt <= now && !budget.pending) {
      this.budgets.delete(key);
      return undefined;
    }
    return budget;
  }

  private async take(key: string, windowMs: number, max: number): Promise<{ current: number; ttl: number }> {
    for (;;) {
      const now = Date.now();
      const budget = this.current(key, now);
      const step = nextStep(budget, max);
      if (step === "reserve") await this.reserve(key, windowMs, max, budget);
      else if (step === "wait") await budget!.pending;
      else if (budget!.spent) return { current: Math.max(max, budget!.base) + 1, ttl: budget!.endsAt - now };
      else if (step === "refuse") return { current: budget!.base + budget!.used + 1, ttl: budget!.endsAt - now };
      else {
        budget!.used++;
        return { current: budget!.base + budget!.used, ttl: budget!.endsAt - now };
      }
    }
  }

  private reserve(key: string, windowMs: number, max: number, previous: Budget | undefined): Promise<void> {
    const chunk = Math.max(1, Math.min(this.maxChunk, Math.floor(max / 20)));
    const budget: Budget = previous ?? { endsAt: Date.now() + windowMs, base: 0, granted: 0, used: 0, spent: false };
    this.budgets.set(key, budget);
    budget.pending = this.reservations
      .submit({ key, windowMs, amount: chunk })
      .then(({ used, ttlMs }) => {
        const before = used - chunk;
        budget.endsAt = Date.now() + ttlMs;
        budget.base = before;
        budget.granted = Math.max(0, Math.min(chunk, max - before));
        budget.used = 0;
        budget.spent = budget.granted === 0;
        this.forgetEnded();
      })
      .finally(() => {
        budget.pending = undefined;
      });
    // The waiting request sees a failed reservation as its own error; the entry is retried afresh.
    budget.pending.catch(() => this.budgets.delete(key));
    return budget.pending;
  }

  /** Keys whose window ended are dropped now and then, so the map holds only live windows. */
  private forgetEnded() {
    if (this.budgets.size < 10_000) return;
    const now = Date.now();
    for (const [key, budget] of this.budgets) if (budget.endsAt <= now && !budget.pending) this.budgets.delete(key);
  }
}

/**
 * What a request of a key does next with its budget: wait for the reservation under way, refuse
 * (the shared count reached the limit, or the limit was lowered below what this replica has
 * spent), spend from the reserved chunk, or reserve one. `take` and `prefetch` both follow it.
 */
function nextStep(budget: Budget | undefined, max: number): "wait" | "refuse" | "spend" | "reserve" {
  if (budget?.pending) return "wait";
  if (budget?.spent) return "refuse";
  if (budget && budget.used < budget.granted) return budget.base + budget.used >= max ? "refuse" : "spend";
  return "reserve";
}
