/**
 * Exact overlap between two patterns: is there a valid repository path that both match?
 *
 * Both patterns are compiled to NFAs over path characters, and the product of the two with a
 * third, fixed automaton that only accepts valid paths (no empty, `.` or `..` segments) is
 * searched breadth-first. Breadth-first means the first accepted string found is a shortest one,
 * which makes a good human-readable witness ("both claims cover `src/a.ts`").
 *
 * The alphabet is finite without loss of generality: apart from `/`, a character that neither
 * pattern mentions literally is indistinguishable from any other such character to both
 * automata, so a single "other" symbol stands for all of them and is spelled, in the witness,
 * as a concrete character that neither pattern uses.
 */

import { DOT_CODE, SLASH_CODE, labelConsumes, type Automaton } from "./automaton.js";
import { compilePattern, type CompiledPattern } from "./compiled.js";
import type { WorkBudget } from "./budget.js";
import type { Pattern } from "./pattern.js";

/** Symbol for "a character neither pattern mentions". Code points are >= 0, so -1 is free. */
export const OTHER = -1;

/**
 * Valid-path automaton states. A path is valid when every segment is non-empty and is not
 * `.` or `..`; tracking how the current segment started is enough to enforce that.
 */
export const SEGMENT_START = 0;
const SEGMENT_DOT = 1;
const SEGMENT_DOT_DOT = 2;
export const SEGMENT_NAME = 3;
const VALIDITY_STATES = 4;

/** The valid-path automaton's next state, or -1 when `symbol` makes the path invalid. (Also `directory.ts`'s.) */
export function nextValidity(state: number, symbol: number): number {
  if (symbol === SLASH_CODE) return state === SEGMENT_NAME ? SEGMENT_START : -1;
  if (symbol === DOT_CODE) {
    if (state === SEGMENT_START) return SEGMENT_DOT;
    if (state === SEGMENT_DOT) return SEGMENT_DOT_DOT;
  }
  return SEGMENT_NAME;
}

/**
 * A shortest valid path matched by both patterns, or null when no path is matched by both.
 * Throws `PatternError` if either pattern text is invalid.
 *
 * The result does not depend on argument order: `overlap(a, b) === overlap(b, a)`.
 */
export function overlap(a: string | Pattern, b: string | Pattern): string | null {
  return overlapCompiled(compilePattern(a), compilePattern(b));
}

/** `overlap` for already compiled patterns (used by the index, which keeps them compiled). */
export function overlapCompiled(a: CompiledPattern, b: CompiledPattern, budget?: WorkBudget): string | null {
  const search = new OverlapSearch(a, b);
  search.run(budget);
  return search.result!;
}

/**
 * Pair results that took real work to find, remembered by pattern texts: the same wildcard-heavy
 * patterns tend to recur (a tool re-claiming its area, a claim retried after a conflict), and a
 * repeated pair then costs a map lookup instead of a product search. Bounded, least recently
 * used evicted first; cheap pairs are not stored, so they never push out the costly ones.
 */
export const PAIR_MEMO_LIMIT = 10_000;
const PAIR_MEMO_MIN_WORK = 512;
/** Pairs of automata with fewer states between them than this never take long enough to remember. */
const PAIR_MEMO_MIN_STATES = 32;
const pairMemo = new Map<string, string | null>();

function remember(key: string, witness: string | null): void {
  pairMemo.set(key, witness);
  if (pairMemo.size > PAIR_MEMO_LIMIT) pairMemo.delete(pairMemo.keys().next().value!);
}

interface Visited {
  /** Records `id` as reached from `parent` by `symbol`; false if it was already reached. */
  visit(id: number, parent: number, symbol: number): boolean;
  parentOf(id: number): number;
  symbolOf(id: number): number;
}

/**
 * Visited set for the common case of small products. Arrays are reused between searches and
 * a per-search stamp marks membership, so starting a search costs nothing.
 */
class ArrayVisited implements Visited {
  private stamps = new Uint32Array(0);
  private parents = new Int32Array(0);
  private symbols = new Int32Array(0);
  private stamp = 0;

  reset(size: number): this {
    if (this.stamps.length < size) {
      const capacity = Math.max(size, this.stamps.length * 2);
      this.stamps = new Uint32Array(capacity);
      this.parents = new Int32Array(capacity);
      this.symbols = new Int32Array(capacity);
      this.stamp = 0;
    }
    if (++this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    return this;
  }

  visit(id: number, parent: number, symbol: number): boolean {
    if (this.stamps[id] === this.stamp) return false;
    this.stamps[id] = this.stamp;
    this.parents[id] = parent;
    this.symbols[id] = symbol;
    return true;
  }

  parentOf(id: number): number {
    return this.parents[id]!;
  }

  symbolOf(id: number): number {
    return this.symbols[id]!;
  }
}

/** Visited set for huge products (two very long patterns), where dense arrays would waste memory. */
class MapVisited implements Visited {
  // Parent and symbol share one entry: `parent * SYMBOL_RANGE + (symbol + 1)`. Product ids stay
  // far below 2^31 and symbols below 2^21, so the packed value is an exact double.
  private readonly entries = new Map<number, number>();

  visit(id: number, parent: number, symbol: number): boolean {
    if (this.entries.has(id)) return false;
    this.entries.set(id, parent * SYMBOL_RANGE + (symbol + 1));
    return true;
  }

  parentOf(id: number): number {
    return Math.floor(this.entries.get(id)! / SYMBOL_RANGE);
  }

  symbolOf(id: number): number {
    return (this.entries.get(id)! % SYMBOL_RANGE) - 1;
  }
}

/** One more than the largest code point, plus one for OTHER (-1). */
const SYMBOL_RANGE = 0x110001;

/** Largest product (in states) searched with the reusable dense arrays: 12 bytes per state. */
const DENSE_LIMIT = 1 << 18;
/** Scratch space for searches, reused: a paused search keeps its own until it finishes. */
interface Scratch {
  readonly visited: ArrayVisited;
  readonly queue: number[];
}
const scratchPool: Scratch[] = [];

/**
 * Breadth-first search of A × B × valid-path, resumable: `run` stops when its budget's time
 * slice is over and continues where it stopped on the next call, so a long search can share
 * the event loop. A product state is packed into one integer,
 * `((qa * |B|) + qb) * VALIDITY_STATES + validity`; id 0 is the start (Glushkov start states
 * have no incoming edges, so nothing else can map to 0).
 */
export class OverlapSearch {
  /** The witness, or null for no overlap; undefined until the search is done. */
  result: string | null | undefined;
  private readonly a: Automaton;
  private readonly b: Automaton;
  /** The memo key, only for pairs big enough to be worth remembering (hashing a key costs its length). */
  private readonly key: string | null;
  private visited: Visited | undefined;
  private queue: number[] = [];
  private scratch: Scratch | undefined;
  private head = 0;
  private work = 0;

  constructor(x: CompiledPattern, y: CompiledPattern) {
    // Searching in a canonical order makes the witness itself, not just its existence, symmetric.
    const swap = y.text < x.text;
    const first = swap ? y : x;
    const second = swap ? x : y;
    this.a = first.automaton;
    this.b = second.automaton;
    this.key = this.a.size + this.b.size >= PAIR_MEMO_MIN_STATES ? `${first.text}\u0000${second.text}` : null;

    // Anchored literal prefixes fix the first segments of every matched path, so two patterns
    // whose prefixes diverge (`src/a/**` and `src/b/**`) cannot overlap; this skips the search.
    const p = first.literalPrefix;
    const q = second.literalPrefix;
    for (let i = 0, n = Math.min(p.length, q.length); i < n; i++) if (p[i] !== q[i]) this.result = null;
    // Paths of disjoint depths cannot be the same path. This decides, without a search, the
    // costliest shape of non-overlapping wildcard patterns (`/*a*b*c/*` against `/*d*e/*/*`),
    // whose exhaustive product search would otherwise visit every reachable pair of states.
    const [minA, maxA] = first.depth;
    const [minB, maxB] = second.depth;
    if (minA > maxB || minB > maxA) this.result = null;
    if (this.result === null) return;

    const known = this.key === null ? undefined : pairMemo.get(this.key);
    if (this.key !== null && known !== undefined) {
      pairMemo.delete(this.key);
      pairMemo.set(this.key, known);
      this.result = known;
      return;
    }

    const total = this.a.size * this.b.size * VALIDITY_STATES;
    if (total <= DENSE_LIMIT) {
      this.scratch = scratchPool.pop() ?? { visited: new ArrayVisited(), queue: [] };
      this.visited = this.scratch.visited.reset(total);
      this.queue = this.scratch.queue;
      this.queue.length = 0;
    } else {
      this.visited = new MapVisited();
    }
    this.visited.visit(0, -1, 0);
    this.queue.push(0);
  }

  /**
   * Searches until done (returns true) or until the budget's slice is over (returns false; call
   * again after yielding). Throws `WorkBudgetExceeded` when the budget runs out.
   */
  run(budget?: WorkBudget): boolean {
    if (this.result !== undefined) return true;
    const { a, b, queue } = this;
    const visited = this.visited!;
    const dataA = a.data;
    const dataB = b.data;
    const offsetsA = 2 * a.size;
    const offsetsB = 2 * b.size;
    const sizeB = b.size;
    let work = 0;

    let id = 0;
    let qa = 0;
    let qb = 0;
    let validity = 0;

    // Advances the current product state by `symbol`; returns an accepting product state reached
    // on the way, or -1. Accepting states are detected when first reached: BFS reaches states in
    // order of distance, so the first one found is at the shortest distance.
    const advance = (symbol: number): number => {
      const nextValid = nextValidity(validity, symbol);
      if (nextValid < 0) return -1;
      for (let i = dataA[offsetsA + qa]!, endA = dataA[offsetsA + qa + 1]!; i < endA; i++) {
        const pa = dataA[i]!;
        work++;
        if (!labelConsumes(dataA[pa]!, symbol)) continue;
        for (let j = dataB[offsetsB + qb]!, endB = dataB[offsetsB + qb + 1]!; j < endB; j++) {
          const pb = dataB[j]!;
          work++;
          if (!labelConsumes(dataB[pb]!, symbol)) continue;
          const next = (pa * sizeB + pb) * VALIDITY_STATES + nextValid;
          if (!visited.visit(next, id, symbol)) continue;
          if (nextValid === SEGMENT_NAME && dataA[a.size + pa] === 1 && dataB[sizeB + pb] === 1) return next;
          queue.push(next);
        }
      }
      return -1;
    };

    for (let head = this.head; head < queue.length; head++) {
      id = queue[head]!;
      validity = id % VALIDITY_STATES;
      const pair = (id - validity) / VALIDITY_STATES;
      qa = Math.floor(pair / sizeB);
      qb = pair - qa * sizeB;

      // Only symbols that can move both sides matter. If one side has no wildcard successor it
      // can only consume its own literal labels, so those are the only symbols to try. Otherwise
      // only characters that a successor consumes literally can behave differently from OTHER:
      // every other character leads exactly where OTHER does (or, for `.`, to a validity state
      // that OTHER's dominates), so trying them would find nothing new.
      const startA = dataA[offsetsA + qa]!;
      const endA = dataA[offsetsA + qa + 1]!;
      const startB = dataB[offsetsB + qb]!;
      const endB = dataB[offsetsB + qb + 1]!;
      let count: number;
      if (!hasWildcard(dataA, startA, endA)) {
        count = collectLabels(dataA, startA, endA, 0);
      } else if (!hasWildcard(dataB, startB, endB)) {
        count = collectLabels(dataB, startB, endB, 0);
      } else {
        count = collectLabels(dataB, startB, endB, collectLabels(dataA, startA, endA, 0));
        if (!hasSymbol(count, SLASH_CODE)) symbols[count++] = SLASH_CODE;
        symbols[count++] = OTHER;
      }

      for (let s = 0; s < count; s++) {
        const found = advance(symbols[s]!);
        if (found >= 0) {
          this.finish(spell(visited, found, a, b), work);
          return true;
        }
      }
      if (budget !== undefined) {
        budget.charge(work);
        this.work += work;
        work = 0;
        if (budget.sliceOver) {
          this.head = head + 1;
          return false;
        }
      }
    }
    this.finish(null, work);
    return true;
  }

  private finish(result: string | null, work: number): void {
    this.result = result;
    this.work += work;
    if (this.key !== null && this.work >= PAIR_MEMO_MIN_WORK) remember(this.key, result);
    if (this.scratch !== undefined) scratchPool.push(this.scratch);
    this.scratch = undefined;
    this.visited = undefined;
    this.queue = [];
  }
}

/** Symbols to try from the current product state (scratch, reused). */
const symbols: number[] = [];

/** Does any state in `data[start..end)` have a wildcard label? */
function hasWildcard(data: Int32Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (data[data[i]!]! < 0) return true;
  return false;
}

function hasSymbol(count: number, symbol: number): boolean {
  for (let k = 0; k < count; k++) if (symbols[k] === symbol) return true;
  return false;
}

/** Appends the distinct code points labelling states `data[start..end)` to `symbols`. */
function collectLabels(data: Int32Array, start: number, end: number, count: number): number {
  for (let i = start; i < end; i++) {
    const label = data[data[i]!]!;
    if (label >= 0 && !hasSymbol(count, label)) symbols[count++] = label;
  }
  return count;
}

function spell(visited: Visited, end: number, a: Automaton, b: Automaton): string {
  const reversed: number[] = [];
  for (let id = end; id !== 0; id = visited.parentOf(id)) reversed.push(visited.symbolOf(id));
  const other = reversed.includes(OTHER) ? pickOtherCharacter(a, b) : "";
  let path = "";
  for (let i = reversed.length - 1; i >= 0; i--) {
    const symbol = reversed[i]!;
    path += symbol === OTHER ? other : String.fromCodePoint(symbol);
  }
  return path;
}

/** Readable stand-ins for OTHER, tried in order; `.` and `/` are absent on purpose. (Also spells `directory.ts`'s OTHER.) */
const OTHER_CANDIDATES = "xyzqwkjvabcdefghilmnoprstu0123456789_-";

export function pickOtherCharacter(a: Automaton, b: Automaton): string {
  for (const char of OTHER_CANDIDATES) {
    const code = char.codePointAt(0)!;
    if (!consumesLiterally(a, code) && !consumesLiterally(b, code)) return char;
  }
  // Patterns that use every candidate above still use finitely many characters.
  for (let code = 0xc0; ; code++) {
    if (!consumesLiterally(a, code) && !consumesLiterally(b, code)) return String.fromCodePoint(code);
  }
}

function consumesLiterally(automaton: Automaton, code: number): boolean {
  for (let state = 1; state < automaton.size; state++) if (automaton.data[state] === code) return true;
  return false;
}
