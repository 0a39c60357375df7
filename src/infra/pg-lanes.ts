import postgres from "postgres";

/**
 * A few single-connection postgres.js clients ("lanes"), each taken by one transaction (and, on
 * the pipelined path, its follow-up) at a time. Every PostgreSQL transaction runs on one (`db.ts`).
 *
 * Why not `sql.reserve()`: postgres.js 3.4 releases a reserved connection that died back to its
 * pool, where the next writes meet a null socket from a `setImmediate` (an uncaught TypeError
 * that ends the process) or queries that never settle (postgres.js issues #1154, #1208). A
 * client with `max: 1` is a connection of its own: `begin`/`commit` sent as plain statements
 * are allowed on it, and nothing else shares it.
 *
 * A lane lives exactly as long as its one connection. When that connection closes, or a
 * transaction on it fails or outlives `stuckAfterMs` (a cut network sends no close), the lane
 * is retired: its client is ended at once (queries still queued on it are rejected instead of
 * going out on a fresh connection outside the transaction that issued them) and a new client
 * takes its place.
 */
export interface LaneOptions {
  url: string;
  size: number;
  /** How long `acquire` waits for a free lane before throwing `LaneTimeoutError`. */
  acquireTimeoutMs: number;
  /** A transaction that has not settled after this long is presumed cut off; its lane is retired (0: never). */
  stuckAfterMs: number;
  /** postgres.js options shared with the pool (connection parameters, timeouts, notices). */
  clientOptions: postgres.Options<Record<string, postgres.PostgresType>>;
}

/** A lane held by one transaction (and its follow-up): give it back with `done` exactly once. */
export interface Lane {
  readonly sql: postgres.Sql;
  /** Returns the lane; `failed` (or a connection that closed meanwhile) retires it for a fresh one. */
  done(failed: boolean): void;
}

interface LaneState {
  sql: postgres.Sql;
  dead: boolean;
}

/** No lane came free within the acquire timeout (every lane busy, or the database unreachable). */
export class LaneTimeoutError extends Error {
  readonly code = "LANE_ACQUIRE_TIMEOUT";
  constructor(ms: number) {
    super(`no database connection for a pipelined transaction within ${ms} ms`);
    this.name = "LaneTimeoutError";
  }
}

interface Waiter {
  resolve: (lane: LaneState) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PgLanes {
  private readonly idle: LaneState[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly all = new Set<LaneState>();
  private closed = false;

  constructor(private readonly options: LaneOptions) {
    for (let i = 0; i < options.size; i++) this.idle.push(this.open());
  }

  private open(): LaneState {
    const state: LaneState = { sql: undefined as unknown as postgres.Sql, dead: false };
    state.sql = postgres(this.options.url, {
      ...this.options.clientOptions,
      max: 1,
      // The connection is the lane: no idle or lifetime recycling behind its back.
      idle_timeout: 0,
      max_lifetime: null,
      onclose: () => this.retire(state),
    });
    this.all.add(state);
    return state;
  }

  /** Ends the lane's client now; queries still queued on it are rejected, never sent elsewhere. */
  private retire(state: LaneState): void {
    if (state.dead) return;
    state.dead = true;
    this.all.delete(state);
    void state.sql.end({ timeout: 0 }).catch(() => {});
  }

  /**
   * Waits (bounded) for a free lane. Held past `stuckAfterMs`, the lane is retired, which rejects
   * its pending queries and so settles the transaction using it.
   */
  async acquire(): Promise<Lane> {
    const state = await this.take();
    const watchdog = this.options.stuckAfterMs > 0 ? setTimeout(() => this.retire(state), this.options.stuckAfterMs) : undefined;
    let given = false;
    return {
      sql: state.sql,
      done: (failed) => {
        if (given) return;
        given = true;
        clearTimeout(watchdog);
        if (failed) this.retire(state);
        this.release(state);
      },
    };
  }

  private take(): Promise<LaneState> {
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    const free = this.idle.pop();
    if (free) return Promise.resolve(free.dead ? this.open() : free);
    return new Promise<LaneState>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (lane) => {
          clearTimeout(waiter.timer);
          resolve(lane);
        },
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new LaneTimeoutError(this.options.acquireTimeoutMs));
        }, this.options.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private release(lane: LaneState): void {
    if (this.closed) return;
    const next = lane.dead ? this.open() : lane;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(next);
    else this.idle.push(next);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error("the database is closed"));
    }
    const clients = [...this.all].map((s) => s.sql);
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(clients.map((c) => c.end({ timeout: 5 }).catch(() => {})));
  }
}
