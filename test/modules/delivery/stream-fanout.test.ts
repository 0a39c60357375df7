import { randomUUID } from "node:crypto";
import t, { type Test as Tap } from "tap";
import { type BuiltApp, buildApp } from "../../../src/app.js";
import { subjectsFor } from "../../../src/events/subjects.js";
import { alertJsonAround } from "../../../src/modules/delivery/alerts.schemas.js";
import { client, createUser, startSession, startTestApp, type TestApp } from "../../helpers/app.js";
import { sleep } from "../../helpers/wait.js";
import { connectStream, listenForStream } from "../../helpers/ws.js";

// An event with many alerts (a directive to every live session of a team) reaches the servers'
// live streams as a batch on `<prefix>-fanout.<org>` ahead of the alerts' own messages, which
// then follow on their subjects and are dropped by id. Each socket hears each alert once.

/** A directive to a team of twenty with a live session each, sent through `app`, heard by sockets on `streams`. */
async function directiveToTwentySessions(t: Tap, { app, bus, config, rootToken }: TestApp, streams: BuiltApp) {
  const subjects = subjectsFor(config.NATS_SUBJECT_PREFIX);
  const url = await listenForStream(streams.app);
  const lead = await createUser(app, rootToken, "lead");
  const team = (await lead.api.post("/v1/teams", { name: "payments" })).body;
  const members = await Promise.all(Array.from({ length: 20 }, () => createUser(app, rootToken, "member")));
  const sockets = [];
  for (const member of members) {
    t.equal((await lead.api.put(`/v1/teams/${team.id}/members/${member.id}`)).status, 200);
    const session = await startSession(member.api);
    const socket = await connectStream(t, url, session.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    sockets.push({ session, socket });
  }
  // Three developers watch as themselves: they hear the team's alert and, through its owner (looked
  // up, since their sessions started before any socket here), their own session's, each once.
  const developers = [];
  for (const [i, member] of members.slice(0, 3).entries()) {
    const socket = await connectStream(t, url, member.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    developers.push({ session: sockets[i]!.session, socket });
  }
  const orgId = (await lead.api.get("/v1/me")).body.org.id as string;
  const batches: { event: { payload: { messageId: string } }; alerts: { recipient: { type: string; id: string } }[] }[] = [];
  const alertMessages: string[] = [];
  t.teardown(bus.subscribe(subjects.fanout(orgId), (m) => batches.push(JSON.parse(Buffer.from(m.data).toString()))));
  t.teardown(bus.subscribe(subjects.allAlerts(orgId), (m) => alertMessages.push(m.subject)));

  const sent = await lead.api.post("/v1/messages", {
    to: { type: "team", id: team.id },
    subject: "Freeze the payments API until Friday",
    body: "Acknowledge when your agent has stopped.",
    ackRequired: true,
  });
  t.equal(sent.status, 201, JSON.stringify(sent.body));
  for (const { session, socket } of sockets) {
    const [alert] = await socket.waitFor(1, "mine", "alert");
    t.match(alert, {
      type: "message.sent",
      recipient: { type: "session", id: session.id },
      event: { payload: { messageId: sent.body.id } },
    });
  }
  // Each alert's own message comes after its batch: give them time to arrive, and to be dropped.
  await sleep(500);
  t.same(
    sockets.map(({ socket }) => socket.of("mine", "alert").length),
    sockets.map(() => 1),
    "each socket heard its alert once",
  );
  for (const { session, socket } of developers) {
    t.same(
      socket
        .of("mine", "alert")
        .map((a) => `${a.recipient.type}:${a.recipient.id}`)
        .sort(),
      [`session:${session.id}`, `team:${team.id}`],
      "a developer's own socket heard the team's alert and its session's, once each",
    );
  }
  t.equal(batches.length, 1, "one batch");
  t.equal(batches[0]?.event.payload.messageId, sent.body.id);
  t.same(
    batches[0]?.alerts
      .filter((a) => a.recipient.type === "session")
      .map((a) => a.recipient.id)
      .sort(),
    sockets.map(({ session }) => session.id).sort(),
    "the batch holds every session's alert (beside the team's own)",
  );
  t.ok(alertMessages.length >= 20, `the alerts travelled on their own subjects too (${alertMessages.length}), for NATS subscribers`);
}

t.test(
  "when a lead's directive alerts twenty live sessions, then each session's socket hears it once, from the relay's batch",
  async (t) => {
    const app = await startTestApp(t);
    await directiveToTwentySessions(t, app, app);
  },
);

t.test("when the directive is sent through one server and the sockets are on another, then each hears it once there too", async (t) => {
  const first = await startTestApp(t);
  const second = await buildApp(first.config);
  t.teardown(() => second.app.close());
  await directiveToTwentySessions(t, first, second);
});

t.test(
  "when a batch and then its alerts' own messages arrive, then the socket hears each alert once; a forged batch is dropped",
  async (t) => {
    const { app, bus, config, rootToken } = await startTestApp(t);
    const subjects = subjectsFor(config.NATS_SUBJECT_PREFIX);
    const url = await listenForStream(app);
    const member = await createUser(app, rootToken, "member");
    const session = await startSession(member.api);
    const orgId = (await member.api.get("/v1/me")).body.org.id as string;
    const socket = await connectStream(t, url, session.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });

    let position = 1_000_000_000;
    const eventOf = (org: string) => ({
      id: randomUUID(),
      seq: position,
      orgId: org,
      type: "message.sent",
      time: new Date().toISOString(),
      actor: { type: "user", id: randomUUID() },
      subject: { type: "message", id: randomUUID() },
      repo: null,
      payload: {},
      position: position++,
    });
    const alertFor = (event: { type: string }) => ({
      id: randomUUID(),
      type: event.type,
      recipient: { type: "session" as const, id: session.id },
      createdAt: new Date().toISOString(),
      ackedAt: null,
      ackedBy: null,
    });
    const ownMessage = (alert: ReturnType<typeof alertFor>, event: object) =>
      bus.publish(subjects.alert(orgId, alert.recipient), alertJsonAround(alert, JSON.stringify(event)), { msgId: alert.id });

    // The batch, then the same alert on its own subject.
    const event = eventOf(orgId);
    const alert = alertFor(event);
    await bus.publish(subjects.fanout(orgId), JSON.stringify({ event, alerts: [alert] }));
    await socket.waitFor(1, "mine", "alert");
    await ownMessage(alert, event);

    // A batch naming another organisation's event, on this organisation's subject: not delivered.
    const forgedEvent = eventOf(randomUUID());
    const forged = alertFor(forgedEvent);
    await bus.publish(subjects.fanout(orgId), JSON.stringify({ event: forgedEvent, alerts: [forged] }));
    // And a batch that is not one.
    await bus.publish(subjects.fanout(orgId), JSON.stringify({ event, alerts: [{ id: 7 }] }));

    // An alert with no batch before it: delivered from its own message. Published last, so once it
    // is here everything above was handled.
    const laterEvent = eventOf(orgId);
    const later = alertFor(laterEvent);
    await ownMessage(later, laterEvent);
    await socket.waitFor(2, "mine", "alert");
    await sleep(200);
    t.same(
      socket.of("mine", "alert").map((a) => a.id),
      [alert.id, later.id],
      "the batch's alert once, the forged and the malformed batches not at all, the lone alert from its own message",
    );
    t.match(socket.of("mine", "alert")[0], { event: { id: event.id, position: event.position } });
    // The socket is still served after the bad batches.
    t.equal((await client(app, session.token).get("/v1/me")).status, 200);
  },
);

t.test(
  "when an alert part-way through a batch needs its session's owner looked up, then the alerts after it still arrive, in order",
  async (t) => {
    const { app, bus, config, rootToken } = await startTestApp(t);
    const subjects = subjectsFor(config.NATS_SUBJECT_PREFIX);
    const url = await listenForStream(app);
    const member = await createUser(app, rootToken, "member");
    // Started before any socket, so the stream has not seen it start: its owner is read from the database.
    const session = await startSession(member.api);
    const orgId = (await member.api.get("/v1/me")).body.org.id as string;
    const socket = await connectStream(t, url, member.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });

    const event = {
      id: randomUUID(),
      seq: 1,
      orgId,
      type: "message.sent",
      time: new Date().toISOString(),
      actor: { type: "user", id: randomUUID() },
      subject: { type: "message", id: randomUUID() },
      repo: null,
      payload: {},
      position: 2_000_000_000,
    };
    const alertTo = (recipient: { type: "session" | "user"; id: string }) => ({
      id: randomUUID(),
      type: event.type,
      recipient,
      createdAt: new Date().toISOString(),
      ackedAt: null,
      ackedBy: null,
    });
    const alerts = [
      alertTo({ type: "user", id: member.id }),
      alertTo({ type: "session", id: session.id }),
      alertTo({ type: "user", id: member.id }),
    ];
    // Only the batch: no alert's own message follows, so each must come from the batch.
    await bus.publish(subjects.fanout(orgId), JSON.stringify({ event, alerts }));
    await socket.waitFor(3, "mine", "alert");
    await sleep(200);
    t.same(
      socket.of("mine", "alert").map((a) => a.id),
      alerts.map((a) => a.id),
      "the developer's socket heard all three, the session's through its owner, in the batch's order",
    );
  },
);
