/**
 * A repository's tracked files as a directory trie, and the question claims ask of it: which
 * existing files do two overlapping patterns both match?
 *
 * Overlap between patterns (`overlap.ts`) is about every path the language allows; most of those
 * paths never exist (`*.md` and `package.json` overlap on `package.json/x.md`). With the file
 * list a tool uploads, an overlap is **real** when some existing file matches both patterns and
 * **latent** when only paths that do not exist do.
 *
 * Layout, chosen for a 1,000,000-file repository: one node per directory; a directory's files
 * are one string of names joined by NUL (no path contains one) with an array of end offsets,
 * sorted, so a file costs its name's bytes and four more, not an object and a string header.
 *
 * The walk runs both patterns' automata down the trie together and leaves a directory as soon
 * as either has no live state: a claim on `src/auth/**` looks at `src/auth` and nothing else.
 */

import { type Automaton, labelConsumes } from "./automaton.js";
import { type WorkBudget, WorkBudgetExceeded } from "./budget.js";
import { compilePattern, literalArea, type CompiledPattern, type LiteralArea } from "./compiled.js";
import { parsePattern } from "./pattern.js";

export interface TreeDir {
  readonly name: string;
  /** Child directories by name; null when there are none. */
  dirs: Map<string, TreeDir> | null;
  /** This directory's file names, sorted, joined by NUL. */
  names: string;
  /** End offset in `names` of each file name (the next starts one after it). */
  ends: Uint32Array;
  /** Files in this directory and below. */
  total: number;
}

const NUL = "\u0000";
const EMPTY_ENDS = new Uint32Array(0);

const newDir = (name: string): TreeDir => ({ name, dirs: null, names: "", ends: EMPTY_ENDS, total: 0 });

/**
 * Builds a tree from paths (valid, any order, repeats ignored). `add` is cheap and `finish` packs
 * each directory, so a caller can add in chunks and yield the event loop between them.
 */
export class TreeBuilder {
  private readonly root = newDir("");
  private readonly pending = new Map<TreeDir, string[]>();
  private last: { dir: TreeDir; prefix: string } = { dir: this.root, prefix: "" };

  add(path: string): void {
    const slash = path.lastIndexOf("/");
    const prefix = slash < 0 ? "" : path.slice(0, slash);
    // Sorted input visits each directory's files together: remember the last one.
    let dir: TreeDir;
    if (prefix === this.last.prefix) dir = this.last.dir;
    else {
      dir = this.root;
      if (prefix !== "")
        for (const segment of prefix.split("/")) {
          dir.dirs ??= new Map();
          let child = dir.dirs.get(segment);
          if (child === undefined) {
            child = newDir(segment);
            dir.dirs.set(segment, child);
          }
          dir = child;
        }
      this.last = { dir, prefix };
    }
    let files = this.pending.get(dir);
    if (files === undefined) {
      files = [];
      this.pending.set(dir, files);
    }
    files.push(path.slice(slash + 1));
  }

  finish(): RepoTree {
    for (const [dir, files] of this.pending) {
      const sorted = [...new Set(files)].sort(compareStrings);
      // A path that is also a directory (`a` and `a/b`) cannot exist in git; the directory wins.
      const kept = dir.dirs === null ? sorted : sorted.filter((name) => !dir.dirs!.has(name));
      dir.names = kept.join(NUL);
      const ends = new Uint32Array(kept.length);
      let offset = 0;
      kept.forEach((name, i) => {
        offset += name.length;
        ends[i] = offset;
        offset++;
      });
      dir.ends = ends;
    }
    this.pending.clear();
    const count = (dir: TreeDir): number => {
      let total = dir.ends.length;
      if (dir.dirs !== null) {
        // Sorted children keep walks, and so examples, in path order.
        dir.dirs = new Map([...dir.dirs].sort(([a], [b]) => compareStrings(a, b)));
        for (const child of dir.dirs.values()) total += count(child);
      }
      dir.total = total;
      return total;
    };
    count(this.root);
    return new RepoTree(this.root);
  }
}

/** Code-unit order, the order `Array.prototype.sort` gives strings (and git's for ASCII). */
export const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function nameAt(dir: TreeDir, i: number): string {
  const start = i === 0 ? 0 : dir.ends[i - 1]! + 1;
  return dir.names.slice(start, dir.ends[i]);
}

/** Binary search of a directory's file names. */
function hasName(dir: TreeDir, name: string): boolean {
  let lo = 0;
  let hi = dir.ends.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareStrings(nameAt(dir, mid), name);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export interface OverlapInTree {
  /** Existing files both patterns match. */
  realCount: number;
  /** Up to the limit asked for, in path order. */
  examples: string[];
  /**
   * False when the walk ran out of the work budget before it was done: `realCount` is then only
   * a lower bound (and 0 means "unknown", not "latent").
   */
  complete: boolean;
}

/** One side of a classification: a compiled pattern, and its literal area when it has one. */
export interface TreeSide {
  readonly compiled: CompiledPattern;
  readonly area: LiteralArea | null;
}

/** Pattern sides, remembered by text (bounded): the same claims are classified again and again. */
const sides = new Map<string, TreeSide>();
const SIDE_CACHE_LIMIT = 10_000;

/** A pattern as a side of a tree classification; throws `PatternError` for invalid text. */
export function treeSide(pattern: string): TreeSide {
  let side = sides.get(pattern);
  if (side === undefined) {
    const parsed = parsePattern(pattern);
    side = { compiled: compilePattern(parsed), area: literalArea(parsed) };
    sides.set(pattern, side);
    if (sides.size > SIDE_CACHE_LIMIT) sides.delete(sides.keys().next().value!);
  }
  return side;
}

export class RepoTree {
  constructor(readonly root: TreeDir) {}

  get size(): number {
    return this.root.total;
  }

  static from(paths: Iterable<string>): RepoTree {
    const builder = new TreeBuilder();
    for (const path of paths) builder.add(path);
    return builder.finish();
  }

  /** The directory at `path` ('' is the root), if the tree has one. */
  dir(path: string): TreeDir | undefined {
    let dir: TreeDir | undefined = this.root;
    if (path === "") return dir;
    for (const segment of path.split("/")) {
      dir = dir.dirs?.get(segment);
      if (dir === undefined) return undefined;
    }
    return dir;
  }

  hasFile(path: string): boolean {
    const slash = path.lastIndexOf("/");
    const dir = this.dir(slash < 0 ? "" : path.slice(0, slash));
    return dir !== undefined && hasName(dir, path.slice(slash + 1));
  }

  /** Every file path, in order (for storage). */
  *paths(): Generator<string> {
    function* visit(dir: TreeDir, prefix: string): Generator<string> {
      // Files and directories of one directory interleave in sorted order, as git lists them.
      const children = dir.dirs === null ? [] : [...dir.dirs.values()];
      let c = 0;
      for (let i = 0; i < dir.ends.length; i++) {
        const name = nameAt(dir, i);
        while (c < children.length && compareStrings(`${children[c]!.name}/`, name) < 0) {
          const child = children[c++]!;
          yield* visit(child, `${prefix}${child.name}/`);
        }
        yield prefix + name;
      }
      while (c < children.length) {
        const child = children[c++]!;
        yield* visit(child, `${prefix}${child.name}/`);
      }
    }
    yield* visit(this.root, "");
  }

  /**
   * Existing files both patterns match: how many, and the first `limit` of them. The caller
   * already knows the patterns overlap; this says whether any file is a witness. Charges the
   * automaton work to `budget` (throws `WorkBudgetExceeded` past it).
   */
  overlap(a: TreeSide, b: TreeSide, limit: number, budget?: WorkBudget): OverlapInTree {
    return new TreeWalk(this, a, b, limit, budget).run();
  }

  /** Existing files under (or at) `path` that the pattern matches: the classification of a checked path. */
  covered(path: string, side: TreeSide, limit: number, budget?: WorkBudget): OverlapInTree {
    return new TreeWalk(
      this,
      { compiled: side.compiled, area: side.area },
      { compiled: null, area: { prefix: path, includesSelf: true } },
      limit,
      budget,
    ).run();
  }
}

/**
 * An automaton's live state set during the walk, one buffer per trie depth so that stepping
 * into a directory never disturbs its parent's set.
 */
class Runner {
  private readonly marks: Uint32Array;
  private stamp = 0;
  private readonly levels: Int32Array[] = [];
  private readonly scratch: [Int32Array, Int32Array];
  work = 0;

  constructor(readonly automaton: Automaton) {
    this.marks = new Uint32Array(automaton.size);
    this.scratch = [new Int32Array(automaton.size), new Int32Array(automaton.size)];
  }

  start(): StateSet {
    const set = this.level(0);
    set[0] = 0;
    return { states: set, count: 1 };
  }

  level(depth: number): Int32Array {
    while (this.levels.length <= depth) this.levels.push(new Int32Array(this.automaton.size));
    return this.levels[depth]!;
  }

  /** Steps `from` over `text[start, end)` into `into`; the count of live states (0: dead). */
  advance(from: StateSet, text: string, start: number, end: number, into: Int32Array): number {
    const { size, data } = this.automaton;
    const offsets = 2 * size;
    let current: Int32Array = from.states;
    let count = from.count;
    let flip = 0;
    for (let i = start; i < end; i++) {
      let symbol = text.charCodeAt(i);
      if (symbol >= 0xd800 && symbol <= 0xdbff && i + 1 < end) symbol = text.codePointAt(i++)!;
      const next = i + 1 >= end ? into : this.scratch[flip]!;
      flip ^= 1;
      if (++this.stamp === 0xffffffff) {
        this.marks.fill(0);
        this.stamp = 1;
      }
      let nextCount = 0;
      this.work += count;
      for (let k = 0; k < count; k++) {
        const state = current[k]!;
        for (let t = data[offsets + state]!, stop = data[offsets + state + 1]!; t < stop; t++) {
          const target = data[t]!;
          if (this.marks[target] !== this.stamp && labelConsumes(data[target]!, symbol)) {
            this.marks[target] = this.stamp;
            next[nextCount++] = target;
          }
        }
      }
      if (nextCount === 0) return 0;
      current = next;
      count = nextCount;
    }
    if (current !== into) into.set(current.subarray(0, count));
    return count;
  }

  accepting(states: Int32Array, count: number): boolean {
    const { size, data } = this.automaton;
    for (let k = 0; k < count; k++) if (data[size + states[k]!] === 1) return true;
    return false;
  }
}

interface StateSet {
  states: Int32Array;
  count: number;
}

/** How often (in automaton steps) the walk reports its work to the budget. */
const CHARGE_EVERY = 4_096;

/** One classification walk. A side is `null` inside a subtree where it matches every file. */
class TreeWalk {
  private count = 0;
  private readonly examples: string[] = [];
  private readonly runners: [Runner | null, Runner | null];
  private readonly file: [Int32Array | null, Int32Array | null];
  private charged = 0;

  constructor(
    private readonly tree: RepoTree,
    private readonly a: TreeSide | { compiled: null; area: LiteralArea },
    private readonly b: TreeSide | { compiled: null; area: LiteralArea },
    private readonly limit: number,
    private readonly budget: WorkBudget | undefined,
  ) {
    // A side with only an area (a checked path) never needs an automaton: its subtree is all it covers.
    this.runners = [a.compiled ? new Runner(a.compiled.automaton) : null, b.compiled ? new Runner(b.compiled.automaton) : null];
    this.file = [
      this.runners[0] && new Int32Array(this.runners[0].automaton.size),
      this.runners[1] && new Int32Array(this.runners[1].automaton.size),
    ];
  }

  run(): OverlapInTree {
    try {
      return this.search();
    } catch (error) {
      if (!(error instanceof WorkBudgetExceeded)) throw error;
      return { realCount: this.count, examples: this.examples, complete: false };
    }
  }

  private search(): OverlapInTree {
    // Both patterns' matches start with their anchored literal segments (a literal area's are its
    // prefix): go straight to the longer one's directory, stepping the automata over it.
    const segmentsOf = (side: TreeSide | { compiled: null; area: LiteralArea }) =>
      side.area !== null ? side.area.prefix.split("/") : (side.compiled?.literalPrefix ?? []);
    const pa = segmentsOf(this.a);
    const pb = segmentsOf(this.b);
    const prefix = pa.length >= pb.length ? pa : pb;
    const [ra, rb] = this.runners;
    let sa: StateSet | null = ra ? ra.start() : null;
    let sb: StateSet | null = rb ? rb.start() : null;
    // An area side stays null (it matches everything) once the walk is strictly inside its prefix,
    // and an area-only side never has an automaton: it is checked by position alone.
    let dir: TreeDir = this.tree.root;
    let path = "";
    for (let depth = 0; depth < prefix.length; depth++) {
      const segment = prefix[depth]!;
      if (depth === prefix.length - 1 && hasName(dir, segment)) {
        const filePath = path + segment;
        if (this.sideAcceptsFile(0, sa, this.a, filePath, segment) && this.sideAcceptsFile(1, sb, this.b, filePath, segment))
          this.hit(filePath);
      }
      const child = dir.dirs?.get(segment);
      if (child === undefined) return this.finish();
      const step = `${segment}/`;
      if (ra && sa) {
        const into = ra.level(depth + 1);
        const n = ra.advance(sa, step, 0, step.length, into);
        if (n === 0) return this.finish();
        sa = { states: into, count: n };
      }
      if (rb && sb) {
        const into = rb.level(depth + 1);
        const n = rb.advance(sb, step, 0, step.length, into);
        if (n === 0) return this.finish();
        sb = { states: into, count: n };
      }
      // Consistent prefixes only: a side whose own literal segments diverge from the path matches nothing here.
      if (!this.onPrefix(pa, depth, segment) || !this.onPrefix(pb, depth, segment)) return this.finish();
      dir = child;
      path += step;
    }
    // Inside an area's prefix directory, the area matches every file below.
    if (this.a.area !== null && pa.length <= prefix.length) sa = null;
    if (this.b.area !== null && pb.length <= prefix.length) sb = null;
    this.walk(dir, path, prefix.length, sa, sb);
    return this.finish();
  }

  private onPrefix(segments: readonly string[], depth: number, segment: string): boolean {
    return depth >= segments.length || segments[depth] === segment;
  }

  /** At the end of the prefix, the file named by it: an area matches it only if it includes itself. */
  private sideAcceptsFile(
    i: 0 | 1,
    set: StateSet | null,
    side: TreeSide | { compiled: null; area: LiteralArea },
    filePath: string,
    name: string,
  ): boolean {
    if (side.area !== null) return side.area.prefix === filePath ? side.area.includesSelf : filePath.startsWith(`${side.area.prefix}/`);
    const runner = this.runners[i]!;
    const into = this.file[i]!;
    const n = runner.advance(set!, name, 0, name.length, into);
    return n > 0 && runner.accepting(into, n);
  }

  private hit(path: string): void {
    this.count++;
    if (this.examples.length < this.limit) this.examples.push(path);
  }

  private charge(): void {
    if (this.budget === undefined) return;
    const work = (this.runners[0]?.work ?? 0) + (this.runners[1]?.work ?? 0);
    if (work - this.charged < CHARGE_EVERY) return;
    this.budget.charge(work - this.charged);
    this.charged = work;
  }

  private finish(): OverlapInTree {
    if (this.budget !== undefined) {
      const work = (this.runners[0]?.work ?? 0) + (this.runners[1]?.work ?? 0);
      try {
        this.budget.charge(work - this.charged + 1);
      } catch (error) {
        // The walk is done: its answer stands; the spent budget stops the next one.
        if (!(error instanceof WorkBudgetExceeded)) throw error;
      }
      this.charged = work;
    }
    return { realCount: this.count, examples: this.examples, complete: true };
  }

  private walk(dir: TreeDir, path: string, depth: number, sa: StateSet | null, sb: StateSet | null): void {
    const [ra, rb] = this.runners;
    if (sa === null && sb === null) {
      // Everything below matches both: count it whole, list only the examples still wanted.
      this.count += dir.total;
      if (this.examples.length < this.limit) this.listFiles(dir, path);
      this.budget?.charge(1);
      return;
    }
    const names = dir.names;
    for (let i = 0, start = 0; i < dir.ends.length; i++) {
      const end = dir.ends[i]!;
      let ok = true;
      if (sa !== null) {
        const n = ra!.advance(sa, names, start, end, this.file[0]!);
        ok = n > 0 && ra!.accepting(this.file[0]!, n);
      }
      if (ok && sb !== null) {
        const n = rb!.advance(sb, names, start, end, this.file[1]!);
        ok = n > 0 && rb!.accepting(this.file[1]!, n);
      }
      if (ok) {
        this.count++;
        if (this.examples.length < this.limit) this.examples.push(path + names.slice(start, end));
      }
      start = end + 1;
    }
    this.charge();
    if (dir.dirs === null) return;
    for (const child of dir.dirs.values()) {
      const step = `${child.name}/`;
      let na: StateSet | null = null;
      let nb: StateSet | null = null;
      if (sa !== null) {
        const into = ra!.level(depth + 1);
        const n = ra!.advance(sa, step, 0, step.length, into);
        if (n === 0) continue;
        na = { states: into, count: n };
      }
      if (sb !== null) {
        const into = rb!.level(depth + 1);
        const n = rb!.advance(sb, step, 0, step.length, into);
        if (n === 0) continue;
        nb = { states: into, count: n };
      }
      this.walk(child, path + step, depth + 1, na, nb);
    }
  }

  private listFiles(dir: TreeDir, path: string): void {
    for (let i = 0; i < dir.ends.length && this.examples.length < this.limit; i++) this.examples.push(path + nameAt(dir, i));
    if (dir.dirs !== null)
      for (const child of dir.dirs.values()) {
        if (this.examples.length >= this.limit) return;
        this.listFiles(child, `${path}${child.name}/`);
      }
  }
}
