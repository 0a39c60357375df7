import type { FastifyBaseLogger } from "fastify";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Bus } from "../../infra/bus.js";
import type { Commit, Database, Db, FollowUp, PipelinedRunner } from "../../infra/db.js";
import type { LoopTracker } from "../../infra/loop-watch.js";
import * as outbox from "./outbox.js";
import { messageIds, type Subjects } from "../../events/subjects.js";
import { toEnvelope } from "../../events/append.js";
import type { EventEnvelope } from "../../events/envelope.js";
import { alertFieldsOf, alertJsonAround, toAlert } from "./alerts.schemas.js";

/**
 * The outbox relay: publishes committed events to the bus, in order, exactly once per event
 * as far as JetStream can tell (it de-duplicates on the message id).
 *
 * One relay at a time publishes: a pass is a transaction holding an advisory lock (with PGlite,
 * one process only, the in-process single flight is enough). It takes the oldest unpublished
 * events by `seq`, gives them fresh positions in that order, publishes all their messages
 * pipelined (JetStream stores one connection's messages in the order sent) and records the
 * positions of the longest prefix whose every message was acknowledged. So positions grow in
 * publication order, and an event is never recorded as published unless JetStream has it;
 * the rest stay in the outbox and are published again, in order, by a later pass.
 *
 * Wake-ups: after a request or sweep that appended events commits (`wake`), a lock held by
 * another replica (retry shortly, so an event committed just after that replica's select is
 * not left behind), failures (capped backoff), and a slow backstop poll. Behind a grant's
 * COMMIT (`followUp`): when no pass is running, the next one starts on the grant's own
 * connection, its lock and read sent right behind the COMMIT, a round trip sooner.
 */

export interface RelayOptions {
  db: Db;
  /** With `advisory-lock`: the database's pipelined transaction (BEGIN rides with the lock and the read, COMMIT with the positions). */
  transaction: Database["pipelinedTransaction"];
  /** `advisory-lock` for PostgreSQL (several replicas), `in-process` for PGlite (one process). */
  exclusion: "advisory-lock" | "in-process";
  bus: Bus;
  subjects: Subjects;
  log: FastifyBaseLogger;
  batchSize: number;
  pollIntervalMs: number;
  /** Where the relay's metrics are registered. */
  registry?: Registry;
  /** Told when each pass starts and ends, so readiness sees a pass that never ends. */
  tracker?: LoopTracker | undefined;
}

export interface OutboxRelay {
  start(): void;
  /** Asks for a pass soon; cheap and coalesced, call it after every commit that appended events. */
  wake(): void;
  /**
   * `pipelinedTransaction`'s follow-up for writes that append events: when the relay is idle,
   * its next pass runs behind the COMMIT on the same connection; otherwise it is woken.
   */
  followUp: FollowUp;
  /** Stops waking, lets a pass in progress finish; nothing is published after it resolves. */
  stop(): Promise<void>;
  lag(): Promise<outbox.OutboxLag>;
}

type Outcome = "idle" | "more" | "busy" | "failed";

export interface Message {
  subject: string;
  data: string;
  msgId: string;
  kind: "event" | "repo" | "alert";
}

const LOCK_RETRY_MIN_MS = 10;
const LOCK_RETRY_MAX_MS = 250;
const FAILURE_RETRY_MIN_MS = 50;
const FAILURE_RETRY_MAX_MS = 1_000;
const DISCONNECTED_RETRY_MS = 100;
/** Room for the subject and headers within the bus's largest message. */
export const HEADROOM_BYTES = 8 * 1024;

/** Without a transaction (PGlite, one process): the statements just run. */
const inProcess = ((last: Promise<unknown>[]) => Promise.all(last)) as Commit;

const latencyBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

function relayMetrics(registry: Registry | undefined, lag: () => Promise<outbox.OutboxLag>, log: FastifyBaseLogger) {
  const registers = registry ? [registry] : [];
  let lastLag: Promise<outbox.OutboxLag> | null = null;
  // Both gauges read one query per scrape.
  const readLag = () => {
    lastLag ??= lag().finally(() => setImmediate(() => (lastLag = null)));
    return lastLag;
  };
  const collectFrom = (pick: (l: outbox.OutboxLag) => number) =>
    async function (this: Gauge) {
      try {
        this.set(pick(await readLag()));
      } catch (err) {
        log.warn({ err }, "outbox lag unavailable for metrics");
      }
    };
  return {
    pending: new Gauge({
      name: "brigade_outbox_pending_events",
      help: "Committed events not yet published to the bus.",
      registers,
      collect: collectFrom((l) => l.pending),
    }),
    oldest: new Gauge({
      name: "brigade_outbox_oldest_pending_age_seconds",
      help: "Age of the oldest event not yet published (0 when none), database clock.",
      registers,
      collect: collectFrom((l) => l.oldestAgeSeconds ?? 0),
    }),
    publishedEvents: new Counter({
      name: "brigade_outbox_published_events_total",
      help: "Events published and recorded with a position by this process.",
      registers,
    }),
    publishedMessages: new Counter({
      name: "brigade_outbox_published_messages_total",
      help: "Bus messages acknowledged, by subject kind (event, repo, alert).",
      labelNames: ["kind"],
      registers,
    }),
    failures: new Counter({
      name: "brigade_outbox_publish_failures_total",
      help: "Relay attempts that failed: the bus was disconnected, or a publish was not acknowledged.",
      registers,
    }),
    publishSeconds: new Histogram({
      name: "brigade_outbox_publish_seconds",
      help: "Time from sending one message to the bus to its acknowledgement (JetStream PubAck).",
      buckets: latencyBuckets,
      registers,
    }),
    deliverySeconds: new Histogram({
      name: "brigade_outbox_delivery_seconds",
      help: "Time from an event's time (its transaction's start) to its publication, database clock.",
      buckets: latencyBuckets,
      registers,
    }),
  };
}

/**
 * The bus messages of one logged event: the event on its type's subject, on its repo's subject,
 * and each of its alerts on its recipient's subject, each with the message id JetStream
 * de-duplicates on. The relay publishes these; the stream rebuild (`rebuild.ts`) publishes the
 * same again.
 */
export function outboxMessages(
  { event: row, position, alerts: alertRows }: outbox.OutboxItem,
  { subjects, maxBytes, log }: { subjects: Subjects; maxBytes: number; log: FastifyBaseLogger },
): Message[] {
  /** Too large for the bus: the envelope travels without its payload, which GET /v1/events has. */
  function fit(data: string, shrink: () => unknown, what: string): string {
    if (Buffer.byteLength(data) <= maxBytes) return data;
    log.warn({ what, bytes: Buffer.byteLength(data) }, "event too large for the bus: published without its payload");
    return JSON.stringify(shrink());
  }
  const envelope: EventEnvelope = { ...toEnvelope(row), position };
  const slim = () => ({ ...envelope, payload: {}, truncated: true });
  const data = fit(JSON.stringify(envelope), slim, `event ${row.id}`);
  const out: Message[] = [];
  const add = (kind: Message["kind"], subject: () => string, payload: string, msgId: string) => {
    try {
      out.push({ kind, subject: subject(), data: payload, msgId });
    } catch (err) {
      // Cannot happen for keys and types Brigade validates; never let one event block the outbox.
      log.error({ err, eventId: row.id, kind }, "no subject for event; not published there");
    }
  };
  add("event", () => subjects.event(row.orgId, row.type), data, messageIds.event(row.id));
  if (row.repo) add("repo", () => subjects.repo(row.orgId, row.repo!, row.type), data, messageIds.repo(row.id));
  for (const a of alertRows) {
    const alertData = fit(alertJsonAround(alertFieldsOf(a), data), () => toAlert(a, slim() as EventEnvelope), `alert ${a.id}`);
    add("alert", () => subjects.alert(row.orgId, { type: a.recipientType, id: a.recipientId }), alertData, messageIds.alert(a.id));
  }
  return out;
}

/** From this many alerts of one event on, the servers' live streams also get them in batches. */
export const FANOUT_MIN_ALERTS = 16;
/** Alerts per batch message. */
export const FANOUT_BATCH_ALERTS = 1_000;
/**
 * Alerts of one event sent in batches at most; the rest travel on their own subjects only. Well
 * inside the live stream's memory of delivered ids (20,000), so the batches' alerts are still
 * known when their own messages follow.
 */
export const FANOUT_MAX_ALERTS = 10_000;
/** How long the relay waits for its alert batches to come back before it publishes their alerts. */
const FANOUT_WAIT_MS = 100;

/**
 * An event's many alerts (a directive's, one per live session of its audience) for the servers'
 * live streams, in batches of at most FANOUT_BATCH_ALERTS (and of the bus's largest message): the
 * event once, then the alerts' own fields. Each batch goes out on `<prefix>-fanout.<org>`, core
 * NATS only, ahead of its alerts' own messages: a server fans a batch out to its sockets at once
 * rather than a thousand messages one by one, and drops those messages when they follow (same
 * ids). They still carry every alert, to NATS subscribers and to a server that missed the batch.
 */
export function fanoutMessages(
  { event: row, position, alerts: alertRows }: outbox.OutboxItem,
  { subjects, maxBytes }: { subjects: Subjects; maxBytes: number },
): { subject: string; data: string }[] {
  if (alertRows.length < FANOUT_MIN_ALERTS) return [];
  const head = `{"event":${JSON.stringify({ ...toEnvelope(row), position })},"alerts":[`;
  const empty = Buffer.byteLength(head) + 2;
  const out: { subject: string; data: string }[] = [];
  let parts: string[] = [];
  let bytes = empty;
  const flush = () => {
    if (parts.length > 0) out.push({ subject: subjects.fanout(row.orgId), data: `${head}${parts.join(",")}]}` });
    parts = [];
    bytes = empty;
  };
  for (const a of alertRows.slice(0, FANOUT_MAX_ALERTS)) {
    const json = JSON.stringify(alertFieldsOf(a));
    const size = Buffer.byteLength(json) + 1;
    // An event too large for a batch has its alerts travel on their own subjects only.
    if (empty + size > maxBytes) return [];
    if (parts.length === FANOUT_BATCH_ALERTS || bytes + size > maxBytes) flush();
    parts.push(json);
    bytes += size;
  }
  flush();
  return out;
}

export function createOutboxRelay(options: RelayOptions): OutboxRelay {
  const { db, bus, subjects, log, batchSize } = options;
  const lag = () => outbox.outboxLag(db);
  const metrics = relayMetrics(options.registry, lag, log);
  const maxBytes = bus.maxPayload - HEADROOM_BYTES;

  let stopped = true;
  let wanted = false;
  let running: Promise<void> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let busyStreak = 0;
  let failureStreak = 0;
  let outage: { since: number; attempts: number } | null = null;

  const messagesOf = (item: outbox.OutboxItem) => outboxMessages(item, { subjects, maxBytes, log });

  /** Until the bus has answered a ping (what was published before is delivered), or FANOUT_WAIT_MS. */
  async function handedBack() {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([bus.ping().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, FANOUT_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Publishes a batch taken under the relay's exclusion; returns how many were taken and published. */
  async function publishBatch(
    tx: Db,
    items: outbox.OutboxItem[],
    commit: Commit,
  ): Promise<{ taken: number; published: number; error?: unknown }> {
    if (items.length === 0) {
      await commit([]);
      return { taken: 0, published: 0 };
    }

    const publish = (m: Message) => {
      const sent = performance.now();
      return bus.publishDurable(m.subject, m.data, m.msgId).then(() => {
        metrics.publishSeconds.observe((performance.now() - sent) / 1000);
        metrics.publishedMessages.inc({ kind: m.kind });
      });
    };
    // Sent back to back: one connection's messages are stored in the order sent. An event with
    // many alerts has them fanned out first (`fanoutMessages`): its batches go right behind the
    // event, and its alerts' own messages once NATS has handed the batches back to this server's
    // live stream (the answer to a ping follows them), so that its sockets do not wait behind a
    // thousand publishes. Its NATS subscribers wait that long instead (the sockets' sends).
    const acks: Promise<unknown>[] = [];
    for (const item of items) {
      const batches = fanoutMessages(item, { subjects, maxBytes });
      if (batches.length === 0) {
        acks.push(Promise.all(messagesOf(item).map(publish)));
        continue;
      }
      const own = messagesOf({ ...item, alerts: [] }).map(publish);
      // Only a shortcut: lost, its alerts still arrive on their own subjects.
      for (const batch of batches) bus.publish(batch.subject, batch.data).catch((err) => log.debug({ err }, "alert batch not published"));
      await handedBack();
      // Built only now: a thousand alerts' messages take milliseconds, which the batch need not wait for.
      const alerts = messagesOf(item).filter((m) => m.kind === "alert");
      acks.push(Promise.all([...own, ...alerts.map(publish)]));
    }
    const settled = await Promise.allSettled(acks);
    let published = settled.findIndex((s) => s.status === "rejected");
    if (published < 0) published = items.length;
    const [delays] = await commit([
      outbox.markPublished(
        tx,
        items.slice(0, published).map((item) => ({ id: item.event.id, position: item.position })),
      ),
    ] as const);
    for (const d of delays) metrics.deliverySeconds.observe(Math.max(0, d));
    metrics.publishedEvents.inc(published);
    const failed = settled[published];
    return { taken: items.length, published, ...(failed?.status === "rejected" ? { error: failed.reason } : {}) };
  }

  async function pass(transaction: PipelinedRunner): Promise<Outcome> {
    if (!bus.connected) throw new Error("the bus is disconnected");
    await bus.prepareDurable();
    const result =
      options.exclusion === "in-process"
        ? await publishBatch(db, await outbox.takeBatch(db, batchSize), inProcess)
        : await transaction(async (tx, commit) => {
            // BEGIN, the lock and the read go together, one round trip: when another relay holds
            // the lock, what was read is dropped (its positions stay unused: they need to ascend,
            // not to be dense).
            const [locked, items] = await Promise.all([outbox.tryRelayLock(tx), outbox.takeBatch(tx, batchSize)]);
            if (!locked) {
              await commit([]);
              return null;
            }
            return publishBatch(tx, items, commit);
          });
    if (!result) return "busy";
    if (result.error) throw result.error;
    return result.taken === batchSize ? "more" : "idle";
  }

  function noteFailure(err: unknown) {
    metrics.failures.inc();
    failureStreak++;
    if (outage) {
      outage.attempts++;
      return;
    }
    outage = { since: Date.now(), attempts: 1 };
    log.warn({ err, bus: bus.kind }, "outbox relay cannot publish; events wait in the outbox and follow in order once it can");
  }

  function noteSuccess() {
    failureStreak = 0;
    if (!outage) return;
    log.info({ outageMs: Date.now() - outage.since, attempts: outage.attempts }, "outbox relay publishing again");
    outage = null;
  }

  function retryIn(ms: number) {
    if (retryTimer || stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      wake();
    }, ms);
  }

  const ownTransaction: PipelinedRunner = (work) => options.transaction(work);

  /** Passes while wanted; the first on `first` when given (a grant's connection), the rest on their own. */
  async function loop(first?: PipelinedRunner) {
    try {
      while (wanted && !stopped) {
        wanted = false;
        let outcome: Outcome;
        const end = options.tracker?.begin();
        try {
          outcome = await pass(first ?? ownTransaction);
        } catch (err) {
          noteFailure(err);
          wanted = true;
          retryIn(bus.connected ? Math.min(FAILURE_RETRY_MIN_MS * 2 ** (failureStreak - 1), FAILURE_RETRY_MAX_MS) : DISCONNECTED_RETRY_MS);
          return;
        } finally {
          end?.();
        }
        if (outcome === "busy") {
          wanted = true;
          retryIn(Math.min(LOCK_RETRY_MIN_MS * 2 ** busyStreak++, LOCK_RETRY_MAX_MS));
          return;
        }
        busyStreak = 0;
        noteSuccess();
        if (outcome === "more") wanted = true;
        first = undefined;
      }
    } finally {
      running = null;
    }
  }

  function wake() {
    if (stopped) return;
    wanted = true;
    // While a retry is scheduled (lock busy, bus failing) it is the next pass: no spinning.
    if (!running && !retryTimer) running = loop();
  }

  function followUp(run: PipelinedRunner): Promise<unknown> | null {
    if (stopped || running || retryTimer || options.exclusion === "in-process") {
      wake();
      return null;
    }
    // The grant's connection is held for the first pass only; later passes take their own.
    let firstDone!: () => void;
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    wanted = true;
    running = loop((work) => run(work).finally(firstDone));
    // A pass that ends before its transaction (the bus went away) never calls the runner.
    void running.finally(firstDone);
    return first;
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      pollTimer = setInterval(wake, options.pollIntervalMs);
      pollTimer.unref();
      wake();
    },
    wake,
    followUp,
    async stop() {
      stopped = true;
      if (pollTimer) clearInterval(pollTimer);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      await running;
    },
    lag,
  };
}
