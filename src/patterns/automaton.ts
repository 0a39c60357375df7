/**
 * Compiles a pattern expression into a small epsilon-free NFA (Glushkov construction) and runs it.
 *
 * Glushkov automata have one state per symbol occurrence in the expression plus a start state,
 * and no epsilon moves, which keeps both simulation and the pairwise product search in
 * `overlap.ts` to plain array walks. Simulation is linear in the path length, so unlike a
 * backtracking RegExp no pattern can make matching slow.
 */

import type { Expression, SymbolClass } from "./expression.js";

export const SLASH_CODE = 0x2f;
export const DOT_CODE = 0x2e;

/**
 * State labels: what a state's incoming symbol must be. A label >= 0 is a code point (`/`
 * included); the negative labels are classes. The start state has no incoming symbol.
 */
export const LABEL_NAME = -2; // any character except `/`
export const LABEL_ANY = -3; // any character
const LABEL_START = -4;

/**
 * A compiled automaton, packed into one Int32Array: one allocation per pattern, four bytes per
 * entry (a plain array of small integers takes eight on a 64-bit Node without pointer
 * compression), which matters with tens of thousands of live claims and a compile cache.
 *
 * Layout for `size` states (state 0 is the start state):
 *   [0, size)                 label of each state
 *   [size, 2·size)            1 if the state is accepting
 *   [2·size, 3·size + 1)      successor offsets: successors of q are
 *                             data[data[2·size + q] .. data[2·size + q + 1])
 *   [3·size + 1, length)      successor lists, each sorted
 */
export interface Automaton {
  readonly size: number;
  readonly data: Int32Array;
}

/** Does a state with this label consume `symbol` (a code point, or -1 for "any other character")? */
export function labelConsumes(label: number, symbol: number): boolean {
  return label === symbol || label === LABEL_ANY || (label === LABEL_NAME && symbol !== SLASH_CODE);
}

interface Summary {
  nullable: boolean;
  first: number[];
  last: number[];
}

export function compileAutomaton(expression: Expression): Automaton {
  const classes: SymbolClass[] = [];
  const follow: Set<number>[] = [new Set()];

  const link = (from: readonly number[], to: readonly number[]): void => {
    for (const f of from) for (const t of to) follow[f]!.add(t);
  };

  const visit = (node: Expression): Summary => {
    switch (node.op) {
      case "symbol": {
        classes.push(node.cls);
        const position = classes.length; // positions start at 1; 0 is the start state
        follow.push(new Set());
        return { nullable: false, first: [position], last: [position] };
      }
      case "sequence": {
        let acc: Summary = { nullable: true, first: [], last: [] };
        for (const item of node.items) {
          const next = visit(item);
          link(acc.last, next.first);
          acc = {
            nullable: acc.nullable && next.nullable,
            first: acc.nullable ? [...acc.first, ...next.first] : acc.first,
            last: next.nullable ? [...acc.last, ...next.last] : next.last,
          };
        }
        return acc;
      }
      case "zero-or-more":
      case "one-or-more": {
        const inner = visit(node.item);
        link(inner.last, inner.first);
        return { ...inner, nullable: node.op === "zero-or-more" || inner.nullable };
      }
      case "optional": {
        const inner = visit(node.item);
        return { ...inner, nullable: true };
      }
    }
  };

  const root = visit(expression);
  follow[0] = new Set(root.first);

  const size = classes.length + 1;
  let edges = 0;
  for (const targets of follow) edges += targets.size;
  const data = new Int32Array(3 * size + 1 + edges);

  data[0] = LABEL_START;
  classes.forEach((cls, i) => {
    data[i + 1] = cls.kind === "char" ? cls.codePoint : cls.kind === "slash" ? SLASH_CODE : cls.kind === "name" ? LABEL_NAME : LABEL_ANY;
  });
  for (const state of root.last) data[size + state] = 1;
  if (root.nullable) data[size] = 1;

  let cursor = 3 * size + 1;
  for (let state = 0; state < size; state++) {
    data[2 * size + state] = cursor;
    for (const target of [...follow[state]!].sort((x, y) => x - y)) data[cursor++] = target;
  }
  data[3 * size] = cursor;
  return { size, data };
}

// Scratch space reused across simulations: a stamp per state marks membership in the next
// state set without clearing arrays between characters or calls.
let marks = new Uint32Array(64);
let current = new Int32Array(64);
let following = new Int32Array(64);
let stamp = 0;
// Active states advanced so far, summed over characters: the work budget's measure of matching.
let work = 0;

/** The matching work (active states × characters) done since the last call, for `WorkBudget`. */
export function takeMatchWork(): number {
  const done = work;
  work = 0;
  return done;
}

/** Runs the automaton over `path` (assumed valid) and reports whether it accepts. */
export function accepts(automaton: Automaton, path: string): boolean {
  const { size, data } = automaton;
  const offsets = 2 * size;
  if (marks.length < size) {
    const capacity = Math.max(size, marks.length * 2);
    marks = new Uint32Array(capacity);
    current = new Int32Array(capacity);
    following = new Int32Array(capacity);
  }

  let active = current;
  let next = following;
  let activeCount = 1;
  active[0] = 0;

  for (const char of path) {
    const symbol = char.codePointAt(0)!;
    if (++stamp === 0xffffffff) {
      marks.fill(0);
      stamp = 1;
    }
    let nextCount = 0;
    work += activeCount;
    for (let i = 0; i < activeCount; i++) {
      const state = active[i]!;
      for (let t = data[offsets + state]!, end = data[offsets + state + 1]!; t < end; t++) {
        const target = data[t]!;
        if (marks[target] !== stamp && labelConsumes(data[target]!, symbol)) {
          marks[target] = stamp;
          next[nextCount++] = target;
        }
      }
    }
    if (nextCount === 0) return false;
    const swap = active;
    active = next;
    next = swap;
    activeCount = nextCount;
  }

  for (let i = 0; i < activeCount; i++) if (data[size + active[i]!] === 1) return true;
  return false;
}
