import type { FastifyBaseLogger } from "fastify";
import type { Bus } from "../../infra/bus.js";
import type { Db } from "../../infra/db.js";
import type { Subjects } from "../../events/subjects.js";
import * as outbox from "./outbox.js";
import { HEADROOM_BYTES, outboxMessages } from "./relay.js";

/**
 * Rebuilds the JetStream stream from the event log: every event the relay has published (and
 * the log still holds), in position order, with its repo copy and its alerts, exactly as the
 * relay sent them (same subjects, same bodies, same positions, same message ids). For a stream
 * that was lost (NATS storage gone, the stream deleted): the stream is created if missing and
 * must be empty, so nothing ends up in it twice. Events not yet published stay to the relay.
 *
 * Servers may keep running: their sockets drop what they already delivered, by position.
 */
export interface RebuildOptions {
  db: Db;
  bus: Bus;
  subjects: Subjects;
  log: FastifyBaseLogger;
  batchSize: number;
  /** Messages the stream holds now; the rebuild refuses to add to a stream that is not empty. */
  storedMessages: () => Promise<number>;
}

export interface RebuildResult {
  events: number;
  messages: number;
}

export class StreamNotEmptyError extends Error {
  constructor(readonly messages: number) {
    super(`the stream already holds ${messages} messages; rebuilding it would store them twice (purge or delete it first)`);
    this.name = "StreamNotEmptyError";
  }
}

export async function rebuildStream(options: RebuildOptions): Promise<RebuildResult> {
  const { db, bus, subjects, log, batchSize } = options;
  await bus.prepareDurable();
  const held = await options.storedMessages();
  if (held > 0) throw new StreamNotEmptyError(held);
  const maxBytes = bus.maxPayload - HEADROOM_BYTES;
  let after = 0;
  let events = 0;
  let messages = 0;
  for (;;) {
    const items = await outbox.publishedAfter(db, after, batchSize);
    if (items.length === 0) break;
    // Sent back to back, acknowledged together: stored in the order sent.
    const sent = items.flatMap((item) => outboxMessages(item, { subjects, maxBytes, log }));
    await Promise.all(sent.map((m) => bus.publishDurable(m.subject, m.data, m.msgId)));
    events += items.length;
    messages += sent.length;
    after = items[items.length - 1]!.position;
    log.info({ events, messages, position: after }, "stream rebuild progress");
  }
  return { events, messages };
}
