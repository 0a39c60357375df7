/**
 * A step budget for pattern work done on behalf of one request: overlap searches between a new
 * claim's patterns and those already held, path checks against held patterns, and compiling
 * the automata they need.
 *
 * Pattern work runs on the event loop (the claim index lives there, and most requests need a
 * few microseconds of it), so two things keep a hostile request from stalling everyone else:
 * the budget caps the total work one request may cause (over it, `WorkBudgetExceeded` ends the
 * request), and `pause()` hands the event loop back every few milliseconds, so other requests,
 * another organisation's included, are served between slices of a long search; paused requests
 * resume one per turn of the loop, so many of them at once still cost others one slice a turn.
 *
 * A step is one unit of automaton work: a pair of transitions tried in the product search, or
 * one active state advanced by one character when matching a path.
 */

// The dashboard's bundle type-checks this folder without Node's types: reach setImmediate
// through globalThis (the budget only ever runs on the server, where it exists).
const immediate = (globalThis as unknown as { setImmediate: (callback: () => void) => unknown }).setImmediate;
/**
 * Long pattern work takes turns: each turn of the event loop resumes ONE waiting slice, whoever
 * it belongs to, after the callbacks already due (I/O, timers). Were every paused request
 * resumed on the next turn, K hostile requests would run K slices between two steps of anyone
 * else's request; taking turns bounds that to one slice, however many wait.
 */
const waiting: (() => void)[] = [];
let turnScheduled = false;
const nextTurn = () => {
  turnScheduled = false;
  waiting.shift()?.();
  // Queued from inside the check phase: it runs on the loop's next turn, after its I/O.
  if (waiting.length > 0) scheduleTurn();
};
const scheduleTurn = () => {
  if (turnScheduled) return;
  turnScheduled = true;
  immediate(nextTurn);
};
const yieldToLoop = () =>
  new Promise<void>((resolve) => {
    waiting.push(resolve);
    scheduleTurn();
  });

/** Thrown when a request's pattern work exceeds its budget. */
export class WorkBudgetExceeded extends Error {
  constructor(readonly limit: number) {
    super(`the request needs more than ${limit} steps of pattern work (PATTERN_WORK_BUDGET)`);
    this.name = "WorkBudgetExceeded";
  }
}

/** Default time slice: how long pattern work runs before letting other requests in. */
export const DEFAULT_SLICE_MS = 1;

/** Steps between clock reads: reading the clock on every step would cost more than the step. */
const CHECK_EVERY = 4_096;

export class WorkBudget {
  /** Steps spent so far. */
  spent = 0;
  private checkpoint = CHECK_EVERY;
  private sliceStart = performance.now();
  /** Set once the slice is found over, until `pause()` yields. */
  private due = false;

  constructor(
    readonly limit: number,
    readonly sliceMs = DEFAULT_SLICE_MS,
  ) {}

  /** Records `steps` of work; throws `WorkBudgetExceeded` once the total passes the limit. */
  charge(steps: number): void {
    this.spent += steps;
    if (this.spent > this.limit) throw new WorkBudgetExceeded(this.limit);
  }

  /** Whether the current slice has run its time: the caller should `pause()` at its next safe point. */
  get sliceOver(): boolean {
    if (this.due) return true;
    if (this.spent < this.checkpoint) return false;
    this.checkpoint = this.spent + CHECK_EVERY;
    this.due = performance.now() - this.sliceStart >= this.sliceMs;
    return this.due;
  }

  /** Yields the event loop if the slice is over (cheap otherwise); await it between units of work. */
  async pause(): Promise<void> {
    if (!this.sliceOver) return;
    await yieldToLoop();
    this.due = false;
    this.sliceStart = performance.now();
  }
}

/** A budget with no limit and no slicing, for callers outside a request (tests, tools). */
export const unlimited = (): WorkBudget => new WorkBudget(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
