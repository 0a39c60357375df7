import t from "tap";
import { subjectsFor } from "../../../src/events/subjects.js";
import { alertFieldsOf, deliveredAlertFieldsSchema, deliveredAlertSchema, toAlert } from "../../../src/modules/delivery/alerts.schemas.js";
import type { OutboxItem } from "../../../src/modules/delivery/outbox.js";
import {
  FANOUT_BATCH_ALERTS,
  FANOUT_MAX_ALERTS,
  FANOUT_MIN_ALERTS,
  fanoutMessages,
  outboxMessages,
} from "../../../src/modules/delivery/relay.js";
import { toEnvelope } from "../../../src/events/append.js";

// What the relay publishes for one event with alerts: the event on its subjects, and each alert
// as the whole alert with the event inside, valid for the stream's readers.

const orgId = "0b9f3c1e-5a55-4c53-9a0e-0d6a3b7f1a01";
const item = (payload: Record<string, unknown>, alertCount: number): OutboxItem => ({
  event: {
    id: "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    seq: 41,
    orgId,
    type: "message.sent",
    occurredAt: new Date("2026-12-07T10:00:00.000Z"),
    actor: { type: "user", id: "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f" },
    subject: { type: "message", id: "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d" },
    repo: "github.com/acme/api",
    payload,
    position: null,
    publishedAt: null,
  },
  position: 1234,
  alerts: Array.from({ length: alertCount }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    type: "message.sent",
    recipientType: "session" as const,
    recipientId: `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    createdAt: "2026-12-07T10:00:00.000Z",
    ackedAt: i === 0 ? "2026-12-07T10:00:01.000Z" : null,
    ackedBy: i === 0 ? { type: "user", id: "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f" } : null,
  })),
});
const warnings: unknown[] = [];
const log = { warn: (...args: unknown[]) => warnings.push(args), error: () => {} } as never;
const subjects = subjectsFor("brigade");

t.test("when an event has alerts, then each alert message is the alert with the event inside, as the stream reads it", async (t) => {
  const one = item({ subject: "freeze payments", body: 'quotes " and \\ and ünïcode' }, 3);
  const messages = outboxMessages(one, { subjects, maxBytes: 1_000_000, log });
  t.same(
    messages.map((m) => m.kind),
    ["event", "repo", "alert", "alert", "alert"],
  );
  const envelope = { ...toEnvelope(one.event), position: 1234 };
  t.same(JSON.parse(messages[0]!.data), envelope);
  for (const [i, alert] of one.alerts.entries()) {
    const message = messages[2 + i]!;
    const parsed = JSON.parse(message.data);
    t.same(parsed, JSON.parse(JSON.stringify(toAlert(alert, envelope))), `alert ${i} is the alert as toAlert builds it`);
    t.ok(deliveredAlertSchema.safeParse(parsed).success, `alert ${i} is valid for the stream`);
    t.equal(message.subject, subjects.alert(orgId, { type: "session", id: alert.recipientId }));
  }
  t.same(warnings, []);
});

t.test("when an alert would be too large for the bus, then it carries the event without its payload", async (t) => {
  const big = item({ body: "x".repeat(5_000) }, 1);
  const messages = outboxMessages(big, { subjects, maxBytes: 4_000, log });
  const event = JSON.parse(messages[0]!.data);
  const alert = JSON.parse(messages[2]!.data);
  t.same(event.payload, {});
  t.equal(event.truncated, true);
  t.same(alert.event.payload, {});
  t.equal(alert.event.truncated, true);
  t.equal(alert.id, big.alerts[0]!.id);
  t.equal(warnings.length, 1, "the shrinking is logged");
  warnings.length = 0;
});

t.test("when the event fits but an alert around it would not, then that alert carries the event without its payload", async (t) => {
  const near = item({ body: "x".repeat(5_000) }, 1);
  const eventBytes = Buffer.byteLength(outboxMessages(near, { subjects, maxBytes: 1_000_000, log })[0]!.data);
  const messages = outboxMessages(near, { subjects, maxBytes: eventBytes + 50, log });
  t.equal(JSON.parse(messages[0]!.data).payload.body.length, 5_000, "the event keeps its payload");
  const alert = JSON.parse(messages[2]!.data);
  t.same(alert.event.payload, {});
  t.equal(alert.event.truncated, true);
  t.ok(deliveredAlertSchema.safeParse(alert).success);
  t.equal(warnings.length, 1, "the shrinking is logged");
  warnings.length = 0;
});

t.test("when an event has many alerts, then the live streams get them in batches: the event once, then each alert's fields", async (t) => {
  t.same(fanoutMessages(item({}, FANOUT_MIN_ALERTS - 1), { subjects, maxBytes: 1_000_000 }), [], "a few alerts travel on their own");
  const many = item({ subject: "freeze payments" }, FANOUT_MIN_ALERTS);
  const [batch, ...rest] = fanoutMessages(many, { subjects, maxBytes: 1_000_000 });
  t.same(rest, []);
  t.equal(batch!.subject, subjects.fanout(orgId));
  const parsed = JSON.parse(batch!.data);
  t.same(parsed.event, { ...toEnvelope(many.event), position: 1234 }, "the event with its position");
  t.same(
    parsed.alerts,
    JSON.parse(JSON.stringify(many.alerts.map(alertFieldsOf))),
    "every alert, in order, as the alert subjects carry it",
  );
  for (const alert of parsed.alerts) t.ok(deliveredAlertFieldsSchema.safeParse(alert).success);
  t.equal(parsed.alerts[0].ackedAt, "2026-12-07T10:00:01.000Z", "an alert acknowledged before it was published says so");
});

t.test(
  "when an event has more alerts than a batch holds, then consecutive batches, and past the cap their own subjects only",
  async (t) => {
    const ids = (batches: { data: string }[]) => batches.map((b) => JSON.parse(b.data).alerts.map((a: { id: string }) => a.id));
    const large = item({}, 2 * FANOUT_BATCH_ALERTS + 7);
    const batches = fanoutMessages(large, { subjects, maxBytes: 1_000_000 });
    t.same(
      ids(batches).map((b) => b.length),
      [FANOUT_BATCH_ALERTS, FANOUT_BATCH_ALERTS, 7],
    );
    t.same(
      ids(batches).flat(),
      large.alerts.map((a) => a.id),
      "each alert once, in order",
    );

    const beyond = item({}, FANOUT_MAX_ALERTS + 3);
    t.same(
      ids(fanoutMessages(beyond, { subjects, maxBytes: 10_000_000 })).flat(),
      beyond.alerts.slice(0, FANOUT_MAX_ALERTS).map((a) => a.id),
      "the first FANOUT_MAX_ALERTS only: the stream's memory of delivered ids holds them all",
    );

    const small = fanoutMessages(large, { subjects, maxBytes: 20_000 });
    t.ok(small.length > 3, `the bus's largest message splits them further (${small.length} batches)`);
    t.ok(
      small.every((b) => Buffer.byteLength(b.data) <= 20_000),
      "each within it",
    );
    t.same(
      ids(small).flat(),
      large.alerts.map((a) => a.id),
    );

    const huge = item({ body: "x".repeat(30_000) }, FANOUT_MIN_ALERTS);
    t.same(fanoutMessages(huge, { subjects, maxBytes: 20_000 }), [], "an event too large for a batch: its alerts go on their own");
  },
);
