import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import type { Bus } from "../../infra/bus.js";
import type { Db } from "../../infra/db.js";
import type { Subjects } from "../../events/subjects.js";
import { type RepoTree, TreeBuilder } from "../../patterns/tree.js";
import { validatePath } from "../../patterns/path.js";
import { findTree, findTreeHead } from "./trees.repository.js";

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Paths handled between two yields of the event loop while a big list is built or stored. */
const CHUNK = 20_000;
const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Builds a tree from paths, skipping (and counting) invalid ones, yielding the event loop every
 * few thousand paths so a 1,000,000-file upload does not hold up other requests.
 */
export async function buildTree(sources: Iterable<string>[], skip?: Set<string>): Promise<{ tree: RepoTree; ignored: number }> {
  const builder = new TreeBuilder();
  let ignored = 0;
  let n = 0;
  for (const source of sources)
    for (const path of source) {
      if (++n % CHUNK === 0) await yieldLoop();
      if (skip?.has(path)) continue;
      if (!validatePath(path).ok) {
        ignored++;
        continue;
      }
      builder.add(path);
    }
  return { tree: builder.finish(), ignored };
}

/** The stored form: sorted paths joined by NUL, gzipped (in the thread pool, off the event loop). */
export async function packTree(tree: RepoTree): Promise<Uint8Array> {
  const parts: string[] = [];
  let n = 0;
  for (const path of tree.paths()) {
    parts.push(path);
    if (++n % CHUNK === 0) await yieldLoop();
  }
  return gzip(Buffer.from(parts.join("\u0000"), "utf8"));
}

export async function unpackTree(packed: Uint8Array): Promise<RepoTree> {
  const text = (await gunzip(packed)).toString("utf8");
  return (await buildTree([text === "" ? [] : text.split("\u0000")])).tree;
}

export interface CachedTree {
  treeId: string;
  generation: number;
  tree: RepoTree;
}

interface Entry {
  tree: CachedTree | null;
  generation: number;
  checkedAt: number;
}

/**
 * Each repo's latest tree, per replica. PostgreSQL has the truth; this process keeps the built
 * trie. A `tree.updated` event (over the bus) drops the entry at once, so every replica reloads
 * after another's upload; an entry is also re-validated against the row's generation (one small
 * read) when older than `ttlMs`, which covers events missed while the bus was down. Repos with
 * no tree are remembered too, so claims in them cost no read.
 */
export class TreeCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loads = new Map<string, Promise<Entry>>();
  /** Bumped by every invalidation: a load that started before one does not keep what it read. */
  private epoch = 0;

  constructor(
    private readonly db: Db,
    private readonly options: { ttlMs: number; maxTrees: number },
  ) {}

  private static key(orgId: string, repo: string) {
    return `${orgId}\u0000${repo}`;
  }

  /**
   * The repo's tree, or null when none was uploaded. Inside a transaction pass it as `tx`: the
   * read then goes over the transaction's own connection, and joins no read on another one. (On
   * the embedded database there is one connection, which the transaction holds until it ends: a
   * read waiting for another connection would wait for ever.)
   */
  async get(orgId: string, repo: string, tx?: Db): Promise<CachedTree | null> {
    const key = TreeCache.key(orgId, repo);
    const hit = this.entries.get(key);
    if (hit && performance.now() - hit.checkedAt < this.options.ttlMs) {
      // Least recently used last: re-insert.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.tree;
    }
    if (tx) return (await this.load(key, orgId, repo, hit, tx)).tree;
    let load = this.loads.get(key);
    if (!load) {
      load = this.load(key, orgId, repo, hit, this.db).finally(() => this.loads.delete(key));
      this.loads.set(key, load);
    }
    return (await load).tree;
  }

  private async load(key: string, orgId: string, repo: string, hit: Entry | undefined, db: Db): Promise<Entry> {
    const epoch = this.epoch;
    const head = await findTreeHead(db, orgId, repo);
    let entry: Entry;
    if (!head) entry = { tree: null, generation: 0, checkedAt: performance.now() };
    else if (hit && hit.generation === head.generation) entry = { ...hit, checkedAt: performance.now() };
    else {
      const row = await findTree(db, orgId, repo);
      if (!row) entry = { tree: null, generation: 0, checkedAt: performance.now() };
      else
        entry = {
          tree: { treeId: row.treeId, generation: row.generation, tree: await unpackTree(row.paths) },
          generation: row.generation,
          checkedAt: performance.now(),
        };
    }
    // Invalidated while reading: serve it to this caller, but check again next time.
    this.store(key, epoch === this.epoch ? entry : { ...entry, checkedAt: Number.NEGATIVE_INFINITY });
    return entry;
  }

  private store(key: string, entry: Entry) {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Least recently used first: drop built trees past the bound, and anything past 10,000 repos.
    let trees = 0;
    for (const e of this.entries.values()) if (e.tree) trees++;
    for (const [k, e] of this.entries) {
      if (trees <= this.options.maxTrees && this.entries.size <= 10_000) break;
      if (k === key) continue;
      if (e.tree) {
        this.entries.delete(k);
        trees--;
      } else if (this.entries.size > 10_000) this.entries.delete(k);
    }
  }

  /** This process's own upload, already built: served without a read. */
  put(orgId: string, repo: string, tree: CachedTree) {
    this.epoch++;
    this.store(TreeCache.key(orgId, repo), { tree, generation: tree.generation, checkedAt: performance.now() });
  }

  forget(orgId: string, repo: string) {
    this.epoch++;
    const entry = this.entries.get(TreeCache.key(orgId, repo));
    if (entry) entry.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Every entry is checked against the database before its next use (the bus was down: events may be lost). */
  staleAll() {
    this.epoch++;
    for (const entry of this.entries.values()) entry.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Drops entries when any replica's `tree.updated` event arrives; returns the unsubscriber. */
  listen(bus: Bus, subjects: Subjects): () => void {
    const stop = bus.subscribe(`${subjects.prefix}.*.repo.*.tree.updated`, (message) => {
      const parsed = subjects.parse(message.subject);
      if (parsed?.kind !== "repo") return;
      const known = this.entries.get(TreeCache.key(parsed.orgId, parsed.repo))?.tree;
      this.forget(parsed.orgId, parsed.repo);
      // A repo this replica works in: rebuild now, so the next claim there does not wait for it
      // (it would, under the repo's lock).
      if (known) this.get(parsed.orgId, parsed.repo).catch(() => undefined);
    });
    const stopWatching = bus.onConnectionChange(() => this.staleAll());
    return () => {
      stop();
      stopWatching();
    };
  }
}
