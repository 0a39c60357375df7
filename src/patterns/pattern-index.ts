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

import { accepts } from './automaton.js';
import { compilePattern, type CompiledPattern } from './compiled.js';
import { overlapCompiled } from './overlap.js';
import { assertValidPath } from './path.js';
import type { Pattern } from './pattern.js';

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

interface Stored<T> {
  readonly entry: IndexEntry<T>;
  readonly compiled: CompiledPattern;
  readonly node: TrieNode<T>;
}

interface TrieNode<T> {
  readonly key: string;
  readonly parent: TrieNode<T> | undefined;
  readonly children: Map<string, TrieNode<T>>;
  readonly entries: Map<string, Stored<T>>;
}

function newNode<T>(key: string, parent: TrieNode<T> | undefined): TrieNode<T> {
  return { key, parent, children: new Map(), entries: new Map() };
}

export class PatternIndex<T> {
  private readonly root: TrieNode<T> = newNode('', undefined);
  private readonly byId = new Map<string, Stored<T>>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): IndexEntry<T> | undefined {
    return this.byId.get(id)?.entry;
  }

  /**
   * Adds a claim. Adding an id that is already present replaces its pattern and value, like
   * `Map.set`. Throws `PatternError` for invalid pattern text (leaving the index unchanged).
   */
  add(id: string, pattern: string | Pattern, value: T): void {
    const compiled = compilePattern(pattern);
    this.remove(id);

    let node = this.root;
    for (const segment of compiled.literalPrefix) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode(segment, node);
        node.children.set(segment, child);
      }
      node = child;
    }
    const stored: Stored<T> = { entry: { id, pattern: compiled.text, value }, compiled, node };
    node.entries.set(id, stored);
    this.byId.set(id, stored);
  }

  /** Removes a claim; returns whether it was present. */
  remove(id: string): boolean {
    const stored = this.byId.get(id);
    if (stored === undefined) return false;
    this.byId.delete(id);

    let node: TrieNode<T> | undefined = stored.node;
    node.entries.delete(id);
    // Prune emptied branches so the trie's size tracks the live claims, not their history.
    while (node.parent !== undefined && node.entries.size === 0 && node.children.size === 0) {
      node.parent.children.delete(node.key);
      node = node.parent;
    }
    return true;
  }

  /**
   * Entries that might overlap `pattern`: a superset of `overlapping(pattern)` chosen only by
   * literal prefixes, without running the overlap search. Throws `PatternError`.
   */
  candidates(pattern: string | Pattern): IndexEntry<T>[] {
    return this.collectCandidates(compilePattern(pattern)).map((stored) => stored.entry);
  }

  /**
   * Entries whose pattern truly overlaps `pattern`, each with a shortest common path. Throws
   * `PatternError`. `accept` skips entries before the (costlier) overlap search; `limit` stops
   * after that many overlaps, which bounds the work for a broad pattern over a huge index.
   */
  overlapping(pattern: string | Pattern, options: { accept?: (value: T) => boolean; limit?: number } = {}): OverlapEntry<T>[] {
    const compiled = compilePattern(pattern);
    const limit = options.limit ?? Infinity;
    const result: OverlapEntry<T>[] = [];
    for (const stored of this.collectCandidates(compiled)) {
      if (options.accept && !options.accept(stored.entry.value)) continue;
      const witness = overlapCompiled(compiled, stored.compiled);
      if (witness !== null && result.push({ ...stored.entry, witness }) >= limit) break;
    }
    return result;
  }

  /** Entries whose pattern matches `path` (who owns this file?). Throws `PathError`. */
  matching(path: string): IndexEntry<T>[] {
    assertValidPath(path);
    const result: IndexEntry<T>[] = [];
    // Only entries whose literal prefix is a prefix of the path's segments can match it.
    let node: TrieNode<T> | undefined = this.root;
    const segments = path.split('/');
    for (let depth = 0; node !== undefined; depth++) {
      for (const stored of node.entries.values()) {
        const { needle, automaton } = stored.compiled;
        if ((needle === '' || path.includes(needle)) && accepts(automaton, path)) result.push(stored.entry);
      }
      const segment = segments[depth];
      node = segment === undefined ? undefined : node.children.get(segment);
    }
    return result;
  }

  private collectCandidates(compiled: CompiledPattern): Stored<T>[] {
    const result: Stored<T>[] = [];
    let node: TrieNode<T> = this.root;
    for (const segment of compiled.literalPrefix) {
      for (const stored of node.entries.values()) result.push(stored);
      const child = node.children.get(segment);
      if (child === undefined) return result;
      node = child;
    }
    collectSubtree(node, result);
    return result;
  }
}

function collectSubtree<T>(node: TrieNode<T>, into: Stored<T>[]): void {
  for (const stored of node.entries.values()) into.push(stored);
  for (const child of node.children.values()) collectSubtree(child, into);
}
