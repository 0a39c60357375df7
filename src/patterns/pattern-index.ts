/**
 * An index of active claims (pattern + value) that answers "which claims could collide with
 * this new pattern?" and "which claims cover this path?" without scanning every claim.
 *
 * Claims are stored in a trie keyed by their anchored leading literal segments
 * (`src/auth/**` lives at src → auth). Every path an anchored pattern matches starts with its
 * literal segments, so two patterns can only overlap if one's literal prefix is a prefix of the
 * other's: the candidates for a query are the entries on the trie path down to the query's node
 * plus everything below that node. Unanchored patterns, and patterns whose first segment has a
 * wildcard, have an empty prefix and live at the root, which is on every query's path.
 */

import { accepts, takeMatchWork } from "./automaton.js";
import type { WorkBudget } from "./budget.js";
import {
  compilePattern,
  literalArea,
  literalAreaMatches,
  literalAreasOverlap,
  type CompiledPattern,
  type LiteralArea,
} from "./compiled.js";
import { OverlapSearch, overlapCompiled } from "./overlap.js";
import { assertValidPath } from "./path.js";
import { firstLiteralSegments, parsePattern, type Pattern } from "./pattern.js";

/** An indexed pattern as lookups return it: the index's own record, so kept no longer than needed. */
export interface IndexEntry<T> {
  readonly id: string;
  /** The pattern text as it was added. */
  readonly pattern: string;
  readonly value: T;
}

export interface OverlapEntry<T> extends IndexEntry<T> {
  /** A shortest path matched by both this entry's pattern and the queried pattern. */
  readonly witness: string;
}

/**
 * An indexed pattern. Memory matters here (100,000 live claims is a normal large repo), so a
 * literal area keeps only its prefix and an automaton is kept only for the other shapes; the
 * overlap search compiles a literal area's automaton on demand, through the compile cache,
 * for the rare pairs that need one. It is itself the entry that lookups return (typed as
 * `IndexEntry`): a second object per pattern cost 5 MB with 100,000 claims.
 */
interface Stored<T> extends IndexEntry<T> {
  readonly node: TrieNode<T>;
  readonly area: LiteralArea | null;
  /** Null exactly when `area` is set. */
  readonly compiled: CompiledPattern | null;
}

/**
 * Most nodes hold one entry and at most one child: a lone entry or child is kept as is (a
 * child's own key names it), and a map is made only for the second. (With 100,000 claims on
 * folders of one repo, maps of one child were 5.8 MB of the heap.)
 */
interface TrieNode<T> {
  readonly key: string;
  readonly parent: TrieNode<T> | undefined;
  children: TrieNode<T> | Map<string, TrieNode<T>> | undefined;
  entries: Stored<T> | Map<string, Stored<T>> | undefined;
}

function childOf<T>(node: TrieNode<T>, segment: string): TrieNode<T> | undefined {
  const children = node.children;
  if (children === undefined) return undefined;
  if (children instanceof Map) return children.get(segment);
  return children.key === segment ? children : undefined;
}

function addChild<T>(node: TrieNode<T>, child: TrieNode<T>): void {
  if (node.children === undefined) node.children = child;
  else if (node.children instanceof Map) node.children.set(child.key, child);
  else
    node.children = new Map([
      [node.children.key, node.children],
      [child.key, child],
    ]);
}

function removeChild<T>(node: TrieNode<T>, key: string): void {
  const children = node.children;
  if (!(children instanceof Map)) {
    node.children = undefined;
    return;
  }
  children.delete(key);
  // Back to a lone child (or none), as if the others had never come.
  if (children.size <= 1) node.children = children.size === 0 ? undefined : children.values().next().value;
}

function forEachChild<T>(node: TrieNode<T>, visit: (child: TrieNode<T>) => void): void {
  const children = node.children;
  if (children === undefined) return;
  if (children instanceof Map) for (const child of children.values()) visit(child);
  else visit(children);
}

function addEntry<T>(node: TrieNode<T>, stored: Stored<T>): void {
  if (node.entries === undefined) node.entries = stored;
  else if (node.entries instanceof Map) node.entries.set(stored.id, stored);
  else
    node.entries = new Map([
      [node.entries.id, node.entries],
      [stored.id, stored],
    ]);
}

function removeEntry<T>(node: TrieNode<T>, id: string): void {
  if (!(node.entries instanceof Map)) node.entries = undefined;
  else if (node.entries.delete(id) && node.entries.size === 0) node.entries = undefined;
}

function pushEntries<T>(node: TrieNode<T>, into: Stored<T>[]): void {
  if (node.entries === undefined) return;
  if (node.entries instanceof Map) for (const stored of node.entries.values()) into.push(stored);
  else into.push(node.entries);
}

function newNode<T>(key: string, parent: TrieNode<T> | undefined): TrieNode<T> {
  return { key, parent, children: undefined, entries: undefined };
}

/** A query pattern: parsed once, compiled only if some candidate needs its automaton. */
class Query {
  readonly area: LiteralArea | null;
  readonly literalPrefix: readonly string[];
  private compiledForm: CompiledPattern | undefined;

  constructor(readonly pattern: Pattern) {
    this.area = literalArea(pattern);
    this.literalPrefix = firstLiteralSegments(pattern);
  }

  get compiled(): CompiledPattern {
    return (this.compiledForm ??= compilePattern(this.pattern));
  }
}

const compiledOf = <T>(stored: Stored<T>): CompiledPattern => stored.compiled ?? compilePattern(stored.pattern);

export class PatternIndex<T> {
  private readonly root: TrieNode<T> = newNode("", undefined);
  private readonly byId = new Map<string, Stored<T>>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): IndexEntry<T> | undefined {
    return this.byId.get(id);
  }

  /**
   * Adds a claim. Adding an id that is already present replaces its pattern and value, like
   * `Map.set`. Throws `PatternError` for invalid pattern text (leaving the index unchanged).
   */
  add(id: string, pattern: string | Pattern, value: T): void {
    const parsed = typeof pattern === "string" ? parsePattern(pattern) : pattern;
    const area = literalArea(parsed);
    const compiled = area === null ? compilePattern(parsed) : null;
    this.remove(id);

    let node = this.root;
    for (const segment of firstLiteralSegments(parsed)) {
      let child = childOf(node, segment);
      if (child === undefined) {
        child = newNode(segment, node);
        addChild(node, child);
      }
      node = child;
    }
    const stored: Stored<T> = { id, pattern: parsed.text, value, node, area, compiled };
    addEntry(node, stored);
    this.byId.set(id, stored);
  }

  /** Removes a claim; returns whether it was present. */
  remove(id: string): boolean {
    const stored = this.byId.get(id);
    if (stored === undefined) return false;
    this.byId.delete(id);

    let node: TrieNode<T> = stored.node;
    removeEntry(node, id);
    // Prune emptied branches so the trie's size tracks the live claims, not their history.
    while (node.parent !== undefined && node.entries === undefined && node.children === undefined) {
      const parent: TrieNode<T> = node.parent;
      removeChild(parent, node.key);
      node = parent;
    }
    return true;
  }

  /**
   * Entries that might overlap `pattern`: a superset of `overlapping(pattern)` chosen only by
   * literal prefixes, without running the overlap search. Throws `PatternError`.
   */
  candidates(pattern: string | Pattern): IndexEntry<T>[] {
    return this.collectCandidates(toQuery(pattern));
  }

  /**
   * Entries whose pattern truly overlaps `pattern`, each with a shortest common path. Throws
   * `PatternError`. `accept` skips entries before the (costlier) overlap search; `limit` stops
   * after that many overlaps, which bounds the work for a broad pattern over a huge index.
   */
  overlapping(pattern: string | Pattern, options: { accept?: (value: T) => boolean; limit?: number } = {}): OverlapEntry<T>[] {
    const query = toQuery(pattern);
    const limit = options.limit ?? Infinity;
    const result: OverlapEntry<T>[] = [];
    for (const stored of this.collectCandidates(query)) {
      if (options.accept && !options.accept(stored.value)) continue;
      // Two literal areas are decided by comparing prefixes; the automata only find the witness.
      if (query.area !== null && stored.area !== null && !literalAreasOverlap(query.area, stored.area)) continue;
      const witness = overlapCompiled(query.compiled, compiledOf(stored));
      if (witness !== null && result.push({ id: stored.id, pattern: stored.pattern, value: stored.value, witness }) >= limit) break;
    }
    return result;
  }

  /**
   * `overlapping` within a request's work budget, yielding the event loop whenever the budget's
   * time slice is over (between candidates and inside a long search). Throws `PatternError`, or
   * `WorkBudgetExceeded` when the budget runs out. The index must not change while this runs:
   * callers hold it under the repo's lock, or search a copy.
   */
  async overlappingWithin(
    pattern: string | Pattern,
    budget: WorkBudget,
    options: { accept?: (value: T) => boolean; limit?: number } = {},
  ): Promise<OverlapEntry<T>[]> {
    const query = toQuery(pattern);
    const limit = options.limit ?? Infinity;
    const result: OverlapEntry<T>[] = [];
    const candidates = this.collectCandidates(query);
    budget.charge(candidates.length);
    for (const stored of candidates) {
      await budget.pause();
      if (options.accept && !options.accept(stored.value)) continue;
      if (query.area !== null && stored.area !== null && !literalAreasOverlap(query.area, stored.area)) continue;
      const search = new OverlapSearch(query.compiled, compiledOf(stored));
      while (!search.run(budget)) await budget.pause();
      const witness = search.result!;
      if (witness !== null && result.push({ id: stored.id, pattern: stored.pattern, value: stored.value, witness }) >= limit) break;
    }
    return result;
  }

  /**
   * `matching` within a request's work budget, yielding the event loop whenever the budget's
   * time slice is over (a deep path against many wildcard-heavy patterns is long work). Throws
   * `PathError`, or `WorkBudgetExceeded` when the budget runs out.
   */
  async matchingWithin(path: string, budget: WorkBudget): Promise<IndexEntry<T>[]> {
    assertValidPath(path);
    const result: IndexEntry<T>[] = [];
    const candidates: Stored<T>[] = [];
    let node: TrieNode<T> | undefined = this.root;
    const segments = path.split("/");
    for (let depth = 0; node !== undefined; depth++) {
      pushEntries(node, candidates);
      const segment = segments[depth];
      node = segment === undefined ? undefined : childOf(node, segment);
    }
    budget.charge(segments.length + candidates.length);
    takeMatchWork();
    for (const stored of candidates) {
      if (storedMatches(stored, path)) result.push(stored);
      budget.charge(takeMatchWork() + 1);
      await budget.pause();
    }
    return result;
  }

  /** Entries whose pattern matches `path` (who owns this file?). Throws `PathError`. */
  matching(path: string): IndexEntry<T>[] {
    assertValidPath(path);
    const result: IndexEntry<T>[] = [];
    // Only entries whose literal prefix is a prefix of the path's segments can match it.
    let node: TrieNode<T> | undefined = this.root;
    const segments = path.split("/");
    for (let depth = 0; node !== undefined; depth++) {
      if (node.entries instanceof Map) {
        for (const stored of node.entries.values()) if (storedMatches(stored, path)) result.push(stored);
      } else if (node.entries !== undefined && storedMatches(node.entries, path)) {
        result.push(node.entries);
      }
      const segment = segments[depth];
      node = segment === undefined ? undefined : childOf(node, segment);
    }
    return result;
  }

  /**
   * The matching entry of highest `rank` (CODEOWNERS: the last rule wins), or null. The trie's
   * deeper nodes are tried first, where patterns are literal areas and cheap to test, and a
   * pattern is tested only when it would outrank the best match so far: the unanchored patterns
   * at the root, which need their automaton, mostly are not. Throws `PathError`.
   */
  bestMatching(path: string, rank: (value: T) => number): IndexEntry<T> | null {
    assertValidPath(path);
    const onPath: TrieNode<T>[] = [];
    let node: TrieNode<T> | undefined = this.root;
    const segments = path.split("/");
    for (let depth = 0; node !== undefined; depth++) {
      onPath.push(node);
      const segment = segments[depth];
      node = segment === undefined ? undefined : childOf(node, segment);
    }
    let best: Stored<T> | null = null;
    let bestRank = Number.NEGATIVE_INFINITY;
    const consider = (stored: Stored<T>) => {
      const r = rank(stored.value);
      if (r > bestRank && storedMatches(stored, path)) {
        best = stored;
        bestRank = r;
      }
    };
    for (let i = onPath.length - 1; i >= 0; i--) {
      const entries = onPath[i]!.entries;
      if (entries instanceof Map) for (const stored of entries.values()) consider(stored);
      else if (entries !== undefined) consider(entries);
    }
    return best as Stored<T> | null;
  }

  private collectCandidates(query: Query): Stored<T>[] {
    const result: Stored<T>[] = [];
    let node: TrieNode<T> = this.root;
    for (const segment of query.literalPrefix) {
      pushEntries(node, result);
      const child = childOf(node, segment);
      if (child === undefined) return result;
      node = child;
    }
    collectSubtree(node, result);
    return result;
  }
}

const toQuery = (pattern: string | Pattern) => new Query(typeof pattern === "string" ? parsePattern(pattern) : pattern);

function storedMatches<T>(stored: Stored<T>, path: string): boolean {
  if (stored.area !== null) return literalAreaMatches(stored.area, path);
  const { needle, automaton } = stored.compiled!;
  return (needle === "" || path.includes(needle)) && accepts(automaton, path);
}

function collectSubtree<T>(node: TrieNode<T>, into: Stored<T>[]): void {
  pushEntries(node, into);
  forEachChild(node, (child) => collectSubtree(child, into));
}
