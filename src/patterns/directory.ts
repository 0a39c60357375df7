/**
 * Directories as GitHub reads CODEOWNERS for them: a rule speaks for a directory when it covers
 * everything inside it (`apps/`, `apps/**`, `*.d` for a directory named `x.d`, `apps` itself),
 * not when it only picks some files there (`apps/*.ts`, `apps/*`, which is only the direct
 * children). So "who owns `apps/web/`" is the last rule that covers all of `apps/web`.
 *
 * Coverage is decided exactly: the pattern's automaton is run over `dir/`, then its state sets
 * are explored (a subset construction, in step with the valid-path automaton) looking for a
 * valid continuation that leaves no accepting state. None found means every valid path inside
 * the directory matches. As in `overlap.ts` (whose valid-path automaton it shares), one OTHER
 * symbol stands for every character the pattern does not name literally, so the alphabet is
 * finite and small.
 */

import { DOT_CODE, SLASH_CODE, labelConsumes, type Automaton } from "./automaton.js";
import { compilePattern } from "./compiled.js";
import { OTHER, SEGMENT_NAME, SEGMENT_START, nextValidity, pickOtherCharacter } from "./overlap.js";
import { assertValidPath } from "./path.js";
import type { Pattern } from "./pattern.js";

/**
 * State sets explored before giving up. A validated pattern has at most a few hundred states
 * and its sets rarely number more than a few dozen; past this bound the answer is "does not
 * cover", the cautious one (the directory then falls to an earlier rule that does).
 */
const MAX_SETS = 4_096;

/** A directory path written with a trailing `/` (`src/auth/`), split from its name. */
export function directoryOf(path: string): string | null {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : null;
}

/**
 * Does `pattern` match every valid path inside the directory `dir` (given without its trailing
 * `/`)? Throws `PathError` for an invalid `dir`, `PatternError` for invalid pattern text.
 */
export function coversDirectory(pattern: string | Pattern, dir: string): boolean {
  return unmatchedInside(pattern, dir) === null;
}

/**
 * A shortest valid path inside `dir` that `pattern` does not match, or null when it matches
 * them all. Past MAX_SETS the search gives up and answers `dir` itself (not a path inside it):
 * "not shown to cover", the cautious answer.
 */
export function unmatchedInside(pattern: string | Pattern, dir: string): string | null {
  assertValidPath(dir);
  const { automaton } = compilePattern(pattern);
  const prefix = `${dir}/`;
  const start = step(automaton, [0], prefix);
  const symbols = alphabet(automaton);
  const spell = (node: Node) => {
    const other = pickOtherCharacter(automaton, automaton);
    let suffix = "";
    for (let at: Node | null = node; at?.symbol !== undefined; at = at.parent)
      suffix = (at.symbol === OTHER ? other : String.fromCodePoint(at.symbol)) + suffix;
    return prefix + suffix;
  };
  const key = (states: number[], validity: number) => `${validity}:${states.join(",")}`;
  const seen = new Set<string>([key(start, SEGMENT_START)]);
  const queue: Node[] = [{ states: start, validity: SEGMENT_START, parent: null }];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    // A valid path ends inside a name segment; if no state accepts there, it is not matched.
    if (node.validity === SEGMENT_NAME && !node.states.some((q) => automaton.data[automaton.size + q] === 1)) return spell(node);
    for (const symbol of symbols) {
      const validity = nextValidity(node.validity, symbol);
      if (validity < 0) continue;
      const states = advance(automaton, node.states, symbol);
      const k = key(states, validity);
      if (seen.has(k)) continue;
      if (seen.size >= MAX_SETS) return dir;
      seen.add(k);
      // An empty set is kept like any other: it reaches an unmatched name within a step or two.
      queue.push({ states, validity, parent: node, symbol });
    }
  }
  return null;
}

interface Node {
  states: number[];
  validity: number;
  parent: Node | null;
  /** The symbol read from the parent; absent on the start node. */
  symbol?: number;
}

/** The pattern's literal code points, `/`, `.` and OTHER: every class of character it can tell apart. */
function alphabet(automaton: Automaton): number[] {
  const symbols = new Set<number>([SLASH_CODE, DOT_CODE, OTHER]);
  for (let q = 1; q < automaton.size; q++) {
    const label = automaton.data[q]!;
    if (label >= 0) symbols.add(label);
  }
  return [...symbols];
}

function step(automaton: Automaton, states: number[], text: string): number[] {
  let current = states;
  for (const char of text) {
    current = advance(automaton, current, char.codePointAt(0)!);
    if (current.length === 0) break;
  }
  return current;
}

/** The sorted set of states reached from `states` by one `symbol` (OTHER: a character no literal names). */
function advance(automaton: Automaton, states: number[], symbol: number): number[] {
  const { size, data } = automaton;
  const offsets = 2 * size;
  const next = new Set<number>();
  for (const state of states)
    for (let t = data[offsets + state]!, end = data[offsets + state + 1]!; t < end; t++) {
      const target = data[t]!;
      if (labelConsumes(data[target]!, symbol)) next.add(target);
    }
  return [...next].sort((x, y) => x - y);
}

/**
 * One path inside `dir`, any name: a pattern that covers the directory matches it, so an index's
 * matches for it are the only candidates worth `coversDirectory`'s exact check.
 */
export function aPathInside(dir: string): string {
  return `${dir}/probe`;
}

/** The pattern of everything inside `dir` (`/dir/**`), its name's syntax characters escaped. */
export function insideDirectory(dir: string): string {
  return `/${dir.replace(/[*?[\]!#]/g, "\\$&")}/**`;
}
