import type { Db } from "../../infra/db.js";
import { AppError } from "../../http/problem.js";
import { eventErrors } from "./delivery.errors.js";
import { findEventCursor, newestUndelivered, outboxPassed } from "./feed.repository.js";

/**
 * Resume without gap or duplicate: a subscription with `after` is registered (buffering live
 * messages) only once the hub's bus subscription is in place; it then replays the log by
 * delivery position from the database, and finally sends the buffered messages past the last
 * replayed position. Every delivery goes through one cursor per subscription (the last
 * position sent, and the alert ids sent at it), so nothing is sent twice or out of order.
 */

/** Rows per replay query. */
const REPLAY_PAGE = 200;
/** Live messages a replaying subscription holds before it drops them and reads them back from the log instead. */
const MAX_PENDING = 5_000;
/** How long a replay waits for the relay to record the positions of events it already published. */
const OUTBOX_SETTLE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fewest keys sent live a subscription remembers. It remembers a relay batch's worth
 * (`RELAY_BATCH_SIZE`, passed in as `sentLiveKeys`): a batch is what can be published once more
 * with new positions.
 */
const SENT_LIVE_MIN_KEYS = 512;

/**
 * Keys (event or alert ids) a subscription sent live, as 64-bit fingerprints in a ring: the
 * relay publishes a batch before it records the batch's positions, and when acknowledgements
 * are lost (a NATS node dies) it publishes the rest again with new positions. The first copy
 * may already have reached a socket live; a read of the log after the bus reconnects finds the
 * same event at its new position, past the cursor, and would send it twice. A replay skips
 * what was sent live. Live copies of the republished message are dropped by the hub by id.
 * Fingerprints rather than the ids: 4 KiB per subscription, and the ids are not kept alive.
 */
class SentLive {
  private readonly ring: Uint32Array;
  private next = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Uint32Array(2 * capacity);
  }

  add(key: string) {
    const [a, b] = fingerprint(key);
    this.ring[2 * this.next] = a;
    this.ring[2 * this.next + 1] = b;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  has(key: string): boolean {
    const [a, b] = fingerprint(key);
    for (let i = 0; i < this.size; i++) if (this.ring[2 * i] === a && this.ring[2 * i + 1] === b) return true;
    return false;
  }
}

/**
 * Two 32-bit multiplicative hashes of the key (FNV-1a's, and one with another offset basis and
 * multiplier): 64 bits, enough that two ids never meet.
 */
function fingerprint(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return [a, b];
}

export interface Delivery {
  position: number | null;
  key: string;
  eventId: string;
  frame: string;
}

/** Where a subscription stands: the last position sent and the keys (event or alert ids) sent at it. */
export interface Cursor {
  position: number;
  /** The event at `position`: what a client resumes from (`after`). */
  eventId: string | null;
  seen: Set<string>;
  /** True while nothing may be sent at `position` itself (a strict `after`). */
  closedAtPosition: boolean;
  live: boolean;
  pending: Delivery[];
  overflowed: boolean;
  replayed: number;
  /** What was sent live, made when first needed (see SentLive). */
  sentLive: SentLive | null;
  /** How many keys `sentLive` holds. */
  sentLiveKeys: number;
}

/** Sends past the cursor only; returns whether it moved. */
function advance(c: Cursor, position: number | null, key: string, eventId: string): boolean {
  if (position === null) return true;
  if (position > c.position) {
    c.position = position;
    c.eventId = eventId;
    c.seen.clear();
    c.seen.add(key);
    c.closedAtPosition = false;
    return true;
  }
  if (position === c.position && !c.closedAtPosition && !c.seen.has(key)) {
    c.seen.add(key);
    return true;
  }
  return false;
}

export async function startCursor(
  db: Db,
  orgId: string,
  afterId: string | null,
  seen: string[] | undefined,
  /** The relay's batch size: how many keys sent live the subscription remembers (at least 512). */
  sentLiveKeys: number,
): Promise<Cursor> {
  const cursor: Cursor = {
    position: 0,
    eventId: afterId,
    seen: new Set(),
    closedAtPosition: false,
    live: afterId === null,
    pending: [],
    overflowed: false,
    replayed: 0,
    sentLive: null,
    sentLiveKeys: Math.max(SENT_LIVE_MIN_KEYS, sentLiveKeys),
  };
  if (afterId === null) return cursor;
  const found = await findEventCursor(db, orgId, afterId);
  if (!found)
    throw eventErrors.unknownCursor(
      `No event ${afterId} in this organisation (or it is past the event log's retention): subscribe without "after" to start from now.`,
      { errors: [{ field: "after", reason: "unknown event id, or past retention" }] },
    );
  if (found.position === null) {
    throw new AppError(409, "stream.cursor_pending", `Event ${afterId} has not been delivered yet; subscribe again shortly.`, {
      errors: [{ field: "after", reason: "not delivered yet" }],
    });
  }
  cursor.position = found.position;
  if (seen) seen.forEach((id) => cursor.seen.add(id));
  else cursor.closedAtPosition = true;
  return cursor;
}

/**
 * What a replay needs of the subscription it serves and of that subscription's socket: the
 * connection provides it, so that this file knows neither filters nor sockets.
 */
export interface ReplayTarget {
  /** The subscription's id, as the client named it. */
  readonly id: string;
  readonly cursor: Cursor;
  /** Reads up to `limit` messages of the log past the cursor, by position, as the subscription filters them. */
  read(limit: number): Promise<Delivery[]>;
  /** False once the subscription is gone: unsubscribed, replaced, or its socket closed. */
  active(): boolean;
  /** True while the socket has more waiting to be sent than a replay should add to. */
  congested(): boolean;
  /** Waits for the socket to drain; false if it closed meanwhile (or was cut as too slow). */
  drained(): Promise<boolean>;
  /** Sends a frame; false if the socket is closed or was just closed as a slow consumer. */
  send(frame: string): boolean;
}

/**
 * Reads the log past the cursor, then sends what arrived live meanwhile. The relay publishes
 * a batch before it records the batch's positions, so events already on the bus may not yet
 * be readable by position: before its last read the replay waits (briefly) until the outbox
 * has passed every event that was waiting when the hub's bus subscription was in place.
 */
export async function replay(db: Db, orgId: string, sub: ReplayTarget) {
  const c = sub.cursor;
  let waitFor = await newestUndelivered(db, orgId);
  const settleBy = Date.now() + OUTBOX_SETTLE_MS;
  for (;;) {
    c.overflowed = false;
    if (waitFor !== null && (Date.now() > settleBy || (await outboxPassed(db, orgId, waitFor)))) waitFor = null;
    const settled = waitFor === null;
    const page = await sub.read(REPLAY_PAGE);
    if (!sub.active()) return;
    for (const item of page) {
      if (c.sentLive?.has(item.key)) continue;
      if (!advance(c, item.position, item.key, item.eventId)) continue;
      if (sub.congested() && !(await sub.drained())) return;
      if (!sub.active() || !sub.send(item.frame)) return;
      c.replayed++;
    }
    if (page.length === REPLAY_PAGE) continue;
    if (!settled) {
      await sleep(10);
      continue;
    }
    // Live messages were dropped while reading: read the log again (they are in it by now).
    if (c.overflowed) continue;
    break;
  }
  goLive(sub);
}

export function goLive(sub: Pick<ReplayTarget, "id" | "cursor" | "send">) {
  const c = sub.cursor;
  const pending = c.pending;
  c.pending = [];
  for (const item of pending) {
    if (!advance(c, item.position, item.key, item.eventId)) continue;
    sentLiveBy(c).add(item.key);
    if (!sub.send(item.frame)) return;
  }
  c.live = true;
  sub.send(JSON.stringify({ type: "live", id: sub.id, replayed: c.replayed, position: c.position, after: c.eventId }));
}

/**
 * Takes a live message for the subscription: while it replays, the message waits (or, past
 * `MAX_PENDING`, all waiting ones are dropped and the replay reads them back from the log);
 * once live, it is to be sent if it is past the cursor. Returns whether to send it now.
 */
export function takeLive(c: Cursor, position: number | null, key: string, eventId: string, frame: string): boolean {
  if (!c.live) {
    if (c.pending.length >= MAX_PENDING) {
      c.pending = [];
      c.overflowed = true;
    }
    c.pending.push({ position, key, eventId, frame });
    return false;
  }
  if (!advance(c, position, key, eventId)) return false;
  sentLiveBy(c).add(key);
  return true;
}

const sentLiveBy = (c: Cursor) => (c.sentLive ??= new SentLive(c.sentLiveKeys));
