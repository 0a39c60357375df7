/**
 * Compiles a pattern expression into a small epsilon-free NFA (Glushkov construction) and runs it.
 *
 * Glushkov automata have one state per symbol occurrence in the expression plus a start state,
 * and no epsilon moves, which keeps both simulation and the pairwise product search in
 * `overlap.ts` to plain array walks. Simulation is linear in the path length, so unlike a
 * backtracking RegExp no pattern can make matching slow.
 */

import type { Expression, SymbolClass } from './expression.js';

/** What a state's incoming symbol must be. The start state has no incoming symbol. */
export const StateKind = { Start: 0, Char: 1, Name: 2, Slash: 3, Any: 4 } as const;

export const SLASH_CODE = 0x2f;
export const DOT_CODE = 0x2e;

export interface Automaton {
  /** Number of states; state 0 is the start state. */
  readonly size: number;
  readonly kind: Uint8Array;
  /** The code point a `Char` state consumes (unused for other kinds). */
  readonly codePoint: Int32Array;
  readonly accepting: Uint8Array;
  /** Successors of state q are `targets[offsets[q] .. offsets[q + 1])`. */
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
  /**
   * The distinct code points consumed by `Char` successors of state q, stored like `targets`.
   * The overlap search only needs to try these symbols (plus `/` and "anything else") from q.
   */
  readonly literalOffsets: Int32Array;
  readonly literalSymbols: Int32Array;
  /** Every code point that appears literally in the pattern. */
  readonly literals: ReadonlySet<number>;
}

/** Does state `state` (as a target) consume `symbol`? `symbol` is a code point, or -1 for a character no pattern mentions. */
export function consumes(automaton: Automaton, state: number, symbol: number): boolean {
  switch (automaton.kind[state]) {
    case StateKind.Char:
      return automaton.codePoint[state] === symbol;
    case StateKind.Name:
      return symbol !== SLASH_CODE;
    case StateKind.Slash:
      return symbol === SLASH_CODE;
    case StateKind.Any:
      return true;
    default:
      return false;
  }
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
      case 'symbol': {
        classes.push(node.cls);
        const position = classes.length; // positions start at 1; 0 is the start state
        follow.push(new Set());
        return { nullable: false, first: [position], last: [position] };
      }
      case 'sequence': {
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
      case 'zero-or-more':
      case 'one-or-more': {
        const inner = visit(node.item);
        link(inner.last, inner.first);
        return { ...inner, nullable: node.op === 'zero-or-more' || inner.nullable };
      }
      case 'optional': {
        const inner = visit(node.item);
        return { ...inner, nullable: true };
      }
    }
  };

  const root = visit(expression);
  follow[0] = new Set(root.first);

  const size = classes.length + 1;
  const kind = new Uint8Array(size);
  const codePoint = new Int32Array(size).fill(-1);
  const accepting = new Uint8Array(size);
  const literals = new Set<number>();

  classes.forEach((cls, i) => {
    const state = i + 1;
    if (cls.kind === 'char') {
      kind[state] = StateKind.Char;
      codePoint[state] = cls.codePoint;
      literals.add(cls.codePoint);
    } else {
      kind[state] = cls.kind === 'name' ? StateKind.Name : cls.kind === 'slash' ? StateKind.Slash : StateKind.Any;
    }
  });
  for (const state of root.last) accepting[state] = 1;
  if (root.nullable) accepting[0] = 1;

  const offsets = new Int32Array(size + 1);
  const literalOffsets = new Int32Array(size + 1);
  const targets: number[] = [];
  const literalSymbols: number[] = [];
  for (let state = 0; state < size; state++) {
    offsets[state] = targets.length;
    literalOffsets[state] = literalSymbols.length;
    const seen = new Set<number>();
    for (const target of [...follow[state]!].sort((x, y) => x - y)) {
      targets.push(target);
      if (kind[target] === StateKind.Char && !seen.has(codePoint[target]!)) {
        seen.add(codePoint[target]!);
        literalSymbols.push(codePoint[target]!);
      }
    }
  }
  offsets[size] = targets.length;
  literalOffsets[size] = literalSymbols.length;

  return {
    size,
    kind,
    codePoint,
    accepting,
    offsets,
    targets: Int32Array.from(targets),
    literalOffsets,
    literalSymbols: Int32Array.from(literalSymbols),
    literals,
  };
}

// Scratch space reused across simulations: a stamp per state marks membership in the next
// state set without clearing arrays between characters or calls.
let marks = new Uint32Array(64);
let current = new Int32Array(64);
let following = new Int32Array(64);
let stamp = 0;

/** Runs the automaton over `path` (assumed valid) and reports whether it accepts. */
export function accepts(automaton: Automaton, path: string): boolean {
  const { size, offsets, targets, accepting } = automaton;
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
    for (let i = 0; i < activeCount; i++) {
      const state = active[i]!;
      for (let t = offsets[state]!, end = offsets[state + 1]!; t < end; t++) {
        const target = targets[t]!;
        if (marks[target] !== stamp && consumes(automaton, target, symbol)) {
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

  for (let i = 0; i < activeCount; i++) if (accepting[active[i]!]) return true;
  return false;
}
