import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const repo = "github.com/acme/api";

async function alertsOf(api: Client, query = "") {
  const res = await api.get(`/v1/alerts?limit=500${query ? `&${query}` : ""}`);
  if (res.status !== 200) throw new Error(`listing alerts failed: ${JSON.stringify(res.body)}`);
  return res.body.items as any[];
}

async function eventsOf(api: Client, type: string) {
  const res = await api.get(`/v1/events?type=${type}&limit=1000`);
  if (res.status !== 200) throw new Error(`listing events failed: ${JSON.stringify(res.body)}`);
  return res.body.items as any[];
}

async function conflictsOf(api: Client, query = "") {
  const res = await api.get(`/v1/conflicts?limit=500${query ? `&${query}` : ""}`);
  if (res.status !== 200) throw new Error(`listing conflicts failed: ${JSON.stringify(res.body)}`);
  return res.body.items as any[];
}

const recipients = (alerts: any[]) => alerts.map((a) => `${a.recipient.type}:${a.recipient.id}`).sort();

t.test("conflicts", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const carol = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api);
  const b = await startSession(bob.api);
  const asA = client(app, a.token);
  const asB = client(app, b.token);

  /** Alice holds `area/**`; Bob claims over it with a warning: one conflict. */
  async function warnConflict(area: string) {
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: [`${area}/**`] });
    const over = await asB.post("/v1/claims", { sessionId: b.id, patterns: [`${area}/x/**`], onConflict: "warn" });
    if (held.status !== 201 || over.status !== 201) throw new Error("claiming failed");
    const [conflict] = (await conflictsOf(lead.api, "status=open")).filter((c) => c.otherClaimId === held.body.id);
    return { held: held.body, over: over.body, conflict };
  }

  const resolvedEvent = async (conflictId: string) =>
    (await eventsOf(lead.api, "conflict.resolved")).find((e) => e.payload.conflictId === conflictId);

  t.test(
    "when a claim is granted with a warning over another, then a conflict opens and both sessions and both users are alerted",
    async (t) => {
      const { held, over, conflict } = await warnConflict("src");
      t.equal(over.conflicts.length, 1);
      t.match(conflict, {
        repo,
        kind: "claim",
        status: "open",
        sessionId: b.id,
        userId: bob.id,
        claimId: over.id,
        pattern: "src/x/**",
        otherSessionId: a.id,
        otherUserId: alice.id,
        otherClaimId: held.id,
        otherPattern: "src/**",
        acknowledgedAt: null,
        resolvedAt: null,
        resolution: null,
      });
      t.match(conflict.witness, /^src\/x\//);
      const detected = await alertsOf(alice.api, "type=claim.conflicted");
      t.same(recipients(detected), [`session:${a.id}`, `user:${alice.id}`]);
      t.match(detected[0].event, { id: conflict.openedEventId, payload: { outcome: "granted_with_warning", claimId: over.id } });
      t.same(recipients(await alertsOf(bob.api, "type=claim.conflicted")), [`session:${b.id}`, `user:${bob.id}`]);
      const opened = (await eventsOf(lead.api, "conflict.opened")).find((e) => e.subject.id === conflict.id);
      t.match(opened, {
        repo,
        subject: { type: "conflict" },
        payload: { conflictId: conflict.id, detectedBy: conflict.openedEventId, witness: conflict.witness },
      });
      t.same(await alertsOf(alice.api, "type=conflict.opened"), [], "the opening is not a second alert: the detection already was one");
      t.same((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, conflict);
    },
  );

  t.test(
    "when a party acks the conflict's alert, then the conflict is acknowledged, and resolved when a claim involved is released",
    async (t) => {
      const { over, conflict } = await warnConflict("web");
      const alert = (await alertsOf(asA, "type=claim.conflicted")).find((x) => x.event.id === conflict.openedEventId);
      t.equal((await asA.post(`/v1/alerts/${alert.id}/ack`)).status, 200);
      const acknowledged = (await lead.api.get(`/v1/conflicts/${conflict.id}`)).body;
      t.equal(acknowledged.status, "acknowledged");
      t.ok(acknowledged.acknowledgedAt);
      const told = (await alertsOf(bob.api, "type=conflict.acknowledged")).filter((x) => x.event.payload.conflictId === conflict.id);
      t.same(recipients(told), [`session:${b.id}`, `user:${bob.id}`], "the other side hears of it");
      t.same(
        recipients((await alertsOf(alice.api, "type=conflict.acknowledged")).filter((x) => x.event.payload.conflictId === conflict.id)),
        [`user:${alice.id}`],
        "the acking session is not told of its own ack; its user is",
      );

      t.equal((await asB.delete(`/v1/claims/${over.id}`)).status, 200);
      const resolved = (await lead.api.get(`/v1/conflicts/${conflict.id}`)).body;
      t.match(resolved, { status: "resolved", resolution: "claim_released" });
      t.ok(resolved.resolvedAt);
      t.match(await resolvedEvent(conflict.id), {
        actor: { type: "session", id: b.id },
        payload: { resolution: "claim_released", otherSessionId: a.id },
      });
      t.same(recipients((await alertsOf(alice.api, "type=conflict.resolved")).filter((x) => x.event.payload.conflictId === conflict.id)), [
        `session:${a.id}`,
        `user:${alice.id}`,
      ]);
      const again = await asA.post(`/v1/conflicts/${conflict.id}/ack`);
      t.equal(again.status, 200, "acking a resolved conflict changes nothing");
      t.equal(again.body.status, "resolved");
    },
  );

  t.test("when a party acks the conflict itself, then it is acknowledged once", async (t) => {
    const { conflict } = await warnConflict("api");
    const res = await bob.api.post(`/v1/conflicts/${conflict.id}/ack`);
    t.equal(res.status, 200);
    t.equal(res.body.status, "acknowledged");
    const again = await asB.post(`/v1/conflicts/${conflict.id}/ack`);
    t.equal(again.status, 200);
    t.equal(again.body.acknowledgedAt, res.body.acknowledgedAt);
    t.equal((await eventsOf(lead.api, "conflict.acknowledged")).filter((e) => e.payload.conflictId === conflict.id).length, 1);
    t.match((await alertsOf(asA, "type=conflict.acknowledged")).find((x) => x.event.payload.conflictId === conflict.id)?.event, {
      actor: { type: "user", id: bob.id },
    });
  });

  t.test("when the held claim is broken, then the conflict is resolved as broken", async (t) => {
    const { held, conflict } = await warnConflict("ops");
    t.equal((await lead.api.post(`/v1/claims/${held.id}/break`, { reason: "stale" })).status, 200);
    t.match((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, { status: "resolved", resolution: "claim_broken" });
    t.match(await resolvedEvent(conflict.id), { actor: { type: "user", id: lead.id }, payload: { resolution: "claim_broken" } });
  });

  t.test("when the held claim is handed off, then the conflict is resolved as a handoff", async (t) => {
    const { held, conflict } = await warnConflict("docs");
    const req = await asB.post(`/v1/claims/${held.id}/handoff`, { sessionId: b.id, reason: "mine now" });
    t.equal((await asA.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "accept" })).status, 200);
    t.match((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, { status: "resolved", resolution: "handoff" });
    t.ok(await resolvedEvent(conflict.id));
  });

  t.test("when a touch conflicts, then a conflict opens once per pair and path, and resolves when a session ends", async (t) => {
    const c = await startSession(carol.api);
    const asC = client(app, c.token);
    await asA.post(`/v1/sessions/${a.id}/touches`, { paths: ["package.json"] });
    const touched = await asC.post(`/v1/sessions/${c.id}/touches`, { paths: ["package.json"] });
    t.match(touched.body.conflicts, [{ path: "package.json", kind: "touch", otherSessionId: a.id }]);
    const [conflict, ...more] = await conflictsOf(lead.api, `session=${c.id}`);
    t.same(more, []);
    t.match(conflict, {
      kind: "touch",
      status: "open",
      sessionId: c.id,
      otherSessionId: a.id,
      witness: "package.json",
      claimId: null,
      otherClaimId: null,
    });
    const detected = (await alertsOf(alice.api, "type=touch.conflict")).filter((x) => x.event.id === conflict.openedEventId);
    t.same(recipients(detected), [`session:${a.id}`, `user:${alice.id}`]);
    t.same(recipients(await alertsOf(carol.api, "type=touch.conflict")), [`session:${c.id}`, `user:${carol.id}`]);

    const again = await asC.post(`/v1/sessions/${c.id}/touches`, { paths: ["package.json"] });
    t.equal(again.body.conflicts.length, 1, "the answer still names the conflict");
    t.equal((await conflictsOf(lead.api, `session=${c.id}`)).length, 1, "but no second conflict opens");
    t.equal((await alertsOf(carol.api, "type=touch.conflict")).length, 2, "and nobody is alerted again");
    const reverse = await asA.post(`/v1/sessions/${a.id}/touches`, { paths: ["package.json"] });
    t.equal(reverse.body.conflicts.length, 1);
    t.equal((await conflictsOf(lead.api, `session=${c.id}`)).length, 1, "nor from the other side");

    t.equal((await carol.api.delete(`/v1/sessions/${c.id}`)).status, 200);
    t.match((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, { status: "resolved", resolution: "session_ended" });
    t.match(await resolvedEvent(conflict.id), { payload: { resolution: "session_ended" } });
  });

  t.test("when an edit lands inside another's claim, then the conflict names the claim and resolves when it is released", async (t) => {
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["lib/**"] });
    await asB.post(`/v1/sessions/${b.id}/touches`, { paths: ["lib/util.ts"] });
    const [conflict] = (await conflictsOf(lead.api, "status=open")).filter((c) => c.otherClaimId === held.body.id);
    t.match(conflict, { kind: "touch", sessionId: b.id, otherClaimId: held.body.id, otherPattern: "lib/**", witness: "lib/util.ts" });
    await asA.delete(`/v1/claims/${held.body.id}`);
    t.match((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, { status: "resolved", resolution: "claim_released" });
  });

  t.test("when a session involved ends, then its claim conflicts resolve as session_ended", async (t) => {
    const s = await startSession(bob.api);
    const asS = client(app, s.token);
    await asA.post("/v1/claims", { sessionId: a.id, patterns: ["infra/**"] });
    await asS.post("/v1/claims", { sessionId: s.id, patterns: ["infra/k8s/**"], onConflict: "warn" });
    const [conflict] = await conflictsOf(lead.api, `session=${s.id}`);
    t.equal(conflict.status, "open");
    await bob.api.delete(`/v1/sessions/${s.id}`);
    t.match((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body, { status: "resolved", resolution: "session_ended" });
  });

  t.test("when two agents of one developer collide, then the conflict is marked and a lead can leave such out", async (t) => {
    const a2 = await startSession(alice.api);
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["same/**"] });
    const over = await client(app, a2.token).post("/v1/claims", { sessionId: a2.id, patterns: ["same/x.ts"], onConflict: "warn" });
    t.equal(over.status, 201, JSON.stringify(over.body));
    const mine = (await conflictsOf(lead.api, "sameDeveloper=true")).filter((c) => c.otherClaimId === held.body.id);
    t.equal(mine.length, 1);
    t.match(mine[0], { userId: alice.id, otherUserId: alice.id, sameDeveloper: true });
    const all = await conflictsOf(lead.api);
    const same = await conflictsOf(lead.api, "sameDeveloper=true");
    const cross = await conflictsOf(lead.api, "sameDeveloper=false");
    t.ok(same.length > 0 && same.every((c) => c.sameDeveloper && c.userId === c.otherUserId), "true: only one developer's");
    t.ok(cross.length > 0 && cross.every((c) => !c.sameDeveloper && c.userId !== c.otherUserId), "false: only two developers'");
    t.equal(same.length + cross.length, all.length, "together, every conflict");
    t.same(
      (await conflictsOf(bob.api, "sameDeveloper=true")).filter((c) => c.userId !== bob.id),
      [],
      "the filter cannot widen what a member sees",
    );
    t.equal((await client(app, a2.token).delete(`/v1/claims/${over.body.id}`)).status, 200);
  });

  t.test("listing filters, visibility and pages", async (t) => {
    const all = await conflictsOf(lead.api);
    t.ok(all.length >= 8);
    t.same(
      all.map((c) => c.id),
      [...all.map((c) => c.id)].sort().reverse(),
      "newest first",
    );
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await lead.api.get(`/v1/conflicts?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(...res.body.items.map((c: any) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    t.same(
      pages,
      all.map((c) => c.id),
    );
    for (const status of ["open", "acknowledged", "resolved"]) {
      t.ok(
        (await conflictsOf(lead.api, `status=${status}`)).every((c) => c.status === status),
        status,
      );
    }
    const unresolved = await conflictsOf(lead.api, "status=unresolved");
    t.ok(unresolved.length > 0 && unresolved.every((c) => c.status !== "resolved"));
    t.equal(
      (await conflictsOf(lead.api, `repo=${encodeURIComponent("git@github.com:Acme/api.git")}`)).length,
      all.length,
      "repo in any remote form",
    );
    t.same(await conflictsOf(lead.api, `repo=${encodeURIComponent("github.com/acme/other")}`), []);
    t.ok((await conflictsOf(lead.api, `user=${carol.id}`)).every((c) => c.userId === carol.id || c.otherUserId === carol.id));
    t.ok((await conflictsOf(lead.api, `session=${b.id}`)).every((c) => c.sessionId === b.id || c.otherSessionId === b.id));
    const middle = [...all].sort((x, y) => x.openedAt.localeCompare(y.openedAt))[Math.floor(all.length / 2)];
    const since = await conflictsOf(lead.api, `since=${encodeURIComponent(middle.openedAt)}`);
    t.ok(since.length > 0 && since.length < all.length, "since leaves out the older ones");
    t.same(
      since.map((c) => c.id),
      all.filter((c) => c.openedAt >= middle.openedAt).map((c) => c.id),
      "since: exactly those opened at or after the time",
    );
    t.same(await conflictsOf(lead.api, `since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), []);

    const carols = await conflictsOf(carol.api);
    t.ok(
      carols.length > 0 && carols.every((c) => c.userId === carol.id || c.otherUserId === carol.id),
      "a member sees the conflicts they are party to",
    );
    t.same(await conflictsOf(carol.api, `user=${bob.id}`), [], "a filter cannot widen what a member sees");
    const bSide = await conflictsOf(asB);
    t.ok(bSide.length > 0 && bSide.every((c) => c.sessionId === b.id || c.otherSessionId === b.id), "a session token sees its session's");
  });

  t.test("bad input", async (t) => {
    const field = async (url: string, expected: string, status = 400) => {
      const res = await lead.api.get(url);
      t.equal(res.status, status, url);
      t.equal(res.body.errors?.[0]?.field, expected, url);
    };
    await field("/v1/conflicts?status=closed", "query.status");
    await field("/v1/conflicts?session=nope", "query.session");
    await field("/v1/conflicts?user=nope", "query.user");
    await field("/v1/conflicts?limit=501", "query.limit");
    await field("/v1/conflicts?since=yesterday", "query.since");
    await field("/v1/conflicts?sameDeveloper=maybe", "query.sameDeveloper");
    await field("/v1/conflicts?cursor=%%%", "cursor");
    await field("/v1/conflicts?repo=..%2Fetc", "repo", 422);
    await field("/v1/conflicts/nope", "params.id");
    const ack = await lead.api.post("/v1/conflicts/nope/ack");
    t.equal(ack.body.errors[0].field, "params.id");
    const unknown = await lead.api.get("/v1/conflicts/01900000-0000-7000-8000-000000000000");
    t.equal(unknown.status, 404);
    t.equal(unknown.body.code, "conflicts.not_found");
    t.equal((await lead.api.post("/v1/conflicts/01900000-0000-7000-8000-000000000000/ack")).body.code, "conflicts.not_found");
  });

  t.test("security", async (t) => {
    const { conflict } = await warnConflict("sec");
    const anon = client(app);
    t.equal((await anon.get("/v1/conflicts")).status, 401);
    t.equal((await anon.get(`/v1/conflicts/${conflict.id}`)).status, 401);
    t.equal((await anon.post(`/v1/conflicts/${conflict.id}/ack`)).status, 401);

    t.equal((await carol.api.get(`/v1/conflicts/${conflict.id}`)).status, 404, "a member who is not a party cannot see it");
    t.equal((await carol.api.post(`/v1/conflicts/${conflict.id}/ack`)).status, 404, "nor acknowledge it");
    const c2 = await startSession(carol.api);
    t.equal((await client(app, c2.token).post(`/v1/conflicts/${conflict.id}/ack`)).status, 404, "nor can another session");
    const notParty = await lead.api.post(`/v1/conflicts/${conflict.id}/ack`);
    t.equal(notParty.status, 403, "a lead sees it but is not a party");
    t.equal(notParty.body.code, "conflicts.not_party");

    const org = await createOrg(app, rootToken);
    t.same((await org.api.get("/v1/conflicts")).body.items, [], "another organisation sees none");
    t.equal((await org.api.get(`/v1/conflicts/${conflict.id}`)).status, 404);
    t.equal((await org.api.post(`/v1/conflicts/${conflict.id}/ack`)).status, 404);
    t.equal((await lead.api.get(`/v1/conflicts/${conflict.id}`)).body.status, "open", "none of that acknowledged it");
  });
});

t.test("when a claim in a conflict expires, then the conflict resolves as expired", async (t) => {
  const { app, rootToken } = await startTestApp(t, { CLAIM_TTL_MIN_SECONDS: "1", SWEEP_INTERVAL_MS: "100" });
  const lead = await createUser(app, rootToken, "lead");
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api);
  const b = await startSession(bob.api);
  const held = await alice.api.post("/v1/claims", { sessionId: a.id, patterns: ["src/**"], ttlSeconds: 1 });
  t.equal((await bob.api.post("/v1/claims", { sessionId: b.id, patterns: ["src/a/**"], onConflict: "warn" })).status, 201);
  const s = await startSession(bob.api, { ttlSeconds: 1 });
  t.equal((await bob.api.post(`/v1/sessions/${s.id}/touches`, { paths: ["README.md"] })).status, 200);
  t.equal((await alice.api.post(`/v1/sessions/${a.id}/touches`, { paths: ["README.md"] })).status, 200);
  const conflicts = (await lead.api.get("/v1/conflicts")).body.items;
  const byClaim = conflicts.find((c: any) => c.otherClaimId === held.body.id);
  const byTouch = conflicts.find((c: any) => c.kind === "touch");
  t.ok(byClaim && byTouch);

  let expired: any;
  let sessionGone: any;
  for (let i = 0; i < 50 && !(expired?.status === "resolved" && sessionGone?.status === "resolved"); i++) {
    await sleep(100);
    expired = (await lead.api.get(`/v1/conflicts/${byClaim.id}`)).body;
    sessionGone = (await lead.api.get(`/v1/conflicts/${byTouch.id}`)).body;
  }
  t.match(expired, { status: "resolved", resolution: "claim_expired" });
  t.match(sessionGone, { status: "resolved", resolution: "session_expired" });
  const events = (await lead.api.get("/v1/events?type=conflict.resolved&limit=1000")).body.items;
  t.match(
    events.find((e: any) => e.payload.conflictId === byClaim.id),
    { actor: { type: "system" }, payload: { resolution: "claim_expired" } },
  );
  const alerts = (await alice.api.get("/v1/alerts?type=conflict.resolved")).body.items;
  t.ok(
    alerts.some((x: any) => x.event.payload.conflictId === byClaim.id),
    "the holder hears its conflict is over",
  );
});
