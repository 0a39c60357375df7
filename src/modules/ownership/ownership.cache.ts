import type { Bus, BusMessage } from "../../infra/bus.js";
import { BusFreshness } from "../../infra/bus-freshness.js";
import type { Db } from "../../infra/db.js";
import type { Subjects } from "../../events/subjects.js";
import type { PatternIndex } from "../../patterns/index.js";
import type { HeldPattern } from "../claims/claims.index.js";
import type { SourceEntry } from "../contracts/contracts.sources.js";
import { peopleNamed, type People } from "../identity/people.js";
import type { CodeownersError, CodeownersIndex, CodeownersRule } from "./codeowners.js";
import type { ModuleRow } from "./ownership.repository.js";

export interface ParsedFile {
  index: CodeownersIndex;
  rules: readonly CodeownersRule[];
  errors: readonly CodeownersError[];
}

export interface ModuleSet {
  modules: ModuleRow[];
  /** Every pattern of every module, valued by its module and its position in the module. */
  index: PatternIndex<{ module: ModuleRow; position: number }>;
}

/**
 * A bounded map of values tagged with the database version they were built from. A reader
 * passes the version it just read; anything else is a miss. Least recently used goes first.
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, { version: string; value: T }>();
  private readonly loading = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(key: string, version: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.version !== version) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  set(key: string, version: string, value: T) {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { version, value });
  }

  /**
   * The cached value for `version`, or one built by `load`. Concurrent misses share one load,
   * so a burst of reads after an upload parses a big file once, not once per request.
   */
  async through(key: string, version: string, load: () => Promise<{ version: string; value: T }>): Promise<T> {
    const hit = this.get(key, version);
    if (hit !== undefined) return hit;
    const flight = `${key}\u0000${version}`;
    let pending = this.loading.get(flight);
    if (!pending) {
      pending = load()
        .then((loaded) => {
          this.set(key, loaded.version, loaded.value);
          return loaded.value;
        })
        .finally(() => this.loading.delete(flight));
      this.loading.set(flight, pending);
    }
    return pending;
  }
}

/** What an owners answer is read from: one repo's state as of one database check. */
export interface Snapshot {
  file: ParsedFile | null;
  modules: ModuleSet | null;
  /**
   * The claim index object itself, which claim changes through this process patch in place: a
   * grant here syncs it under the repo's lock and patches it before its response, so an answer
   * read from this snapshot afterwards includes it.
   */
  claims: PatternIndex<HeldPattern>;
  /** The repo's contract sources; null when no contract's source was ever there. */
  contracts: PatternIndex<SourceEntry> | null;
  /** The database clock when the check ran, and this process's clock when it started. */
  dbNow: number;
  checkedAt: number;
}

export type Check = () => Promise<Omit<Snapshot, "checkedAt">>;

/**
 * Each repo's latest checked state. While `serving` says the bus keeps it fresh, a snapshot
 * answers until an event about the repo drops it, or for at most `maxAgeMs` (half-way through,
 * a background check starts, so under steady load no request waits for one). Otherwise every
 * answer checks. A check that an invalidation overtook is not kept, nor joined by later
 * requests: it may have read the database before the change.
 */
class Snapshots {
  private readonly entries = new Map<string, Snapshot>();
  private readonly inflight = new Map<string, { stale: boolean; promise: Promise<Snapshot> }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly capacity: number,
  ) {}

  get(key: string, serving: boolean, check: Check): Promise<Snapshot> {
    const hit = serving ? this.entries.get(key) : undefined;
    if (hit) {
      const age = Date.now() - hit.checkedAt;
      if (age < this.maxAgeMs) {
        // A failed background check is retried by the next request; the answer given stays valid.
        if (age >= this.maxAgeMs / 2) this.refresh(key, check).catch(() => undefined);
        return Promise.resolve(hit);
      }
    }
    return this.refresh(key, check);
  }

  /** After a change to the repo: the next answer for it checks again. */
  invalidate(key: string) {
    this.entries.delete(key);
    const running = this.inflight.get(key);
    if (running) running.stale = true;
  }

  invalidateWhere(matches: (key: string) => boolean) {
    for (const key of [...this.entries.keys()]) if (matches(key)) this.entries.delete(key);
    for (const [key, running] of this.inflight) if (matches(key)) running.stale = true;
  }

  clear() {
    this.invalidateWhere(() => true);
  }

  private refresh(key: string, check: Check): Promise<Snapshot> {
    const running = this.inflight.get(key);
    if (running && !running.stale) return running.promise;
    const checkedAt = Date.now();
    const flight = { stale: false, promise: null as unknown as Promise<Snapshot> };
    flight.promise = check()
      .then((state) => {
        const snapshot = { ...state, checkedAt };
        if (!flight.stale) {
          this.entries.delete(key);
          if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(key, snapshot);
        }
        return snapshot;
      })
      .finally(() => {
        if (this.inflight.get(key) === flight) this.inflight.delete(key);
      });
    this.inflight.set(key, flight);
    return flight.promise;
  }
}

/**
 * Claim holders' names, per organisation. A user's name, display name and e-mail are set when
 * the user is created and never change today; an event about a user (`user.*`) still drops
 * the organisation's names, so a rename, when there is one, applies at once. `maxAgeMs` bounds
 * what a missed event could leave.
 */
class PeopleCache {
  private readonly orgs = new Map<string, Map<string, { name: string; until: number }>>();
  private size = 0;
  /** Bumped by every invalidation: a read that started before one does not store what it read. */
  private generation = 0;

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
  ) {}

  async named(db: Db, orgId: string, userIds: readonly string[], serving: boolean): Promise<People> {
    const known = serving ? this.orgs.get(orgId) : undefined;
    const now = performance.now();
    const missing = new Set<string>();
    for (const id of userIds) {
      const hit = known?.get(id);
      if (!hit || hit.until <= now) missing.add(id);
    }
    if (missing.size === 0) return { name: (id) => known?.get(id)?.name ?? id };
    const generation = this.generation;
    const read = await peopleNamed(db, orgId, [...missing]);
    if (serving && generation === this.generation) {
      if (this.size + missing.size > this.maxEntries) this.clear();
      let names = this.orgs.get(orgId);
      if (!names) this.orgs.set(orgId, (names = new Map()));
      for (const id of missing) {
        const name = read.name(id);
        // Unknown ids read back as themselves: not kept, asked again.
        if (name === id) continue;
        if (!names.has(id)) this.size++;
        names.set(id, { name, until: now + this.maxAgeMs });
      }
    }
    return { name: (id) => (missing.has(id) ? read.name(id) : (known?.get(id)?.name ?? id)) };
  }

  forgetOrg(orgId: string) {
    this.generation++;
    this.size -= this.orgs.get(orgId)?.size ?? 0;
    this.orgs.delete(orgId);
  }

  clear() {
    this.generation++;
    this.orgs.clear();
    this.size = 0;
  }
}

/**
 * Claim event types that leave a repo's active claims as they were: no reason to check again.
 * Any other `claim.*` type (a new one too) drops the repo's snapshot.
 */
const CLAIMS_UNCHANGED = new Set(["claim.conflicted", "claim.queued", "claim.queue_waiting", "claim.queue_left", "claim.fence_rejected"]);

/** Contract events that may move a repo's contract sources (an update may move them to another repo). */
const CONTRACT_SOURCES = ["contract.created", "contract.updated", "contract.archived"];

export interface OwnershipCacheOptions {
  bus: Bus;
  subjects: Subjects;
  /** OWNERS_MAX_AGE_MS: the longest an answer is served from memory without a database check. */
  maxAgeMs: number;
  log: { warn(details: object, message: string): void };
}

/**
 * Per-process caches, per (org, repo): parsed CODEOWNERS files and module pattern indexes,
 * keyed by the rows' versions; the checked snapshot that owners answers are read from; and the
 * claim holders' names. The database stays the truth. A warm answer asks it nothing: every
 * change that can alter an answer is an event every replica receives over the bus (a claim
 * granted, renewed, released, expired or broken, a CODEOWNERS upload, a module changed, a
 * contract's sources moved), and that event drops the repo's snapshot, so another replica's
 * change reaches this one's answers within the bus's delivery time. A claim request's grant
 * through this process applies at once (it patches the claim index the snapshot holds), and so
 * do an upload or a module change (they drop the snapshot right after their commit); what the
 * sweepers and session ends release or promote from a queue arrives with its event, as another
 * replica's change does. While the bus is down, or before
 * the subscriptions are confirmed, nothing is served from memory (events may have been
 * missed); `maxAgeMs` bounds what a lost message could leave.
 */
export class OwnershipCache {
  readonly files = new VersionedCache<ParsedFile>(256);
  readonly modules = new VersionedCache<ModuleSet>(1024);
  // A snapshot holds its parsed file, so it is bounded like the files.
  private readonly snapshots: Snapshots;
  private readonly names: PeopleCache;
  private readonly freshness: BusFreshness;

  constructor(private readonly options: OwnershipCacheOptions) {
    this.snapshots = new Snapshots(options.maxAgeMs, 256);
    this.names = new PeopleCache(options.maxAgeMs, 100_000);
    this.freshness = new BusFreshness(
      options.bus,
      () => {
        this.snapshots.clear();
        this.names.clear();
      },
      options.log,
    );
  }

  static key(orgId: string, repoKey: string) {
    return `${orgId}\u0000${repoKey}`;
  }

  /** Subscribes to the events that change answers; answers come from memory once the bus confirms. */
  start(): void {
    const p = this.options.subjects.prefix;
    const repoEvent = (message: BusMessage) => this.onRepoEvent(message);
    const orgEvent = (what: "contracts" | "people") => (message: BusMessage) => this.onOrgEvent(message, what);
    this.freshness.start({
      [`${p}.*.repo.*.claim.>`]: repoEvent,
      [`${p}.*.repo.*.codeowners.updated`]: repoEvent,
      [`${p}.*.repo.*.module.>`]: repoEvent,
      ...Object.fromEntries(CONTRACT_SOURCES.map((type) => [`${p}.*.events.${type}`, orgEvent("contracts")])),
      [`${p}.*.events.user.>`]: orgEvent("people"),
    });
  }

  close(): void {
    this.freshness.close();
  }

  /** The repo's snapshot: from memory while it is fresh, else after `check`. */
  snapshot(key: string, check: Check): Promise<Snapshot> {
    return this.snapshots.get(key, this.freshness.serving, check);
  }

  /** After a change through this process has committed: the repo's next answer checks again. */
  invalidate(key: string) {
    this.snapshots.invalidate(key);
  }

  /** The names of claim holders, for an answer. */
  people(db: Db, orgId: string, userIds: readonly string[]): Promise<People> {
    return this.names.named(db, orgId, userIds, this.freshness.serving);
  }

  private onRepoEvent(message: BusMessage): void {
    const parsed = this.options.subjects.parse(message.subject);
    if (parsed?.kind !== "repo" || CLAIMS_UNCHANGED.has(parsed.type)) return;
    this.snapshots.invalidate(OwnershipCache.key(parsed.orgId, parsed.repo));
  }

  private onOrgEvent(message: BusMessage, what: "contracts" | "people"): void {
    const parsed = this.options.subjects.parse(message.subject);
    if (parsed?.kind !== "events") return;
    // Rare events: the whole organisation's snapshots (a contract's sources may have left a
    // repo that its event does not name) or names.
    if (what === "people") this.names.forgetOrg(parsed.orgId);
    else this.snapshots.invalidateWhere((key) => key.startsWith(`${parsed.orgId}\u0000`));
  }
}
