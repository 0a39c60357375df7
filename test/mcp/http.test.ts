import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { client as api, startSession } from "../helpers/app.js";
import { startServer, twoUsers } from "../cli/helpers.js";
import { call, TOOLS } from "./helpers.js";

async function connect(t: { teardown(fn: () => unknown): void }, url: string, token: string) {
  const client = new Client({ name: "brigade-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  t.teardown(() => client.close());
  return client;
}

t.test("MCP over Streamable HTTP at /mcp", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const claim = await api(server.app, held.token).post("/v1/claims", {
    sessionId: held.id,
    patterns: ["src/auth/**"],
    reason: "login rework",
  });
  t.equal(claim.status, 201);

  await t.test("when a request has no valid bearer token, then it is refused before MCP sees it", async (t) => {
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    t.equal(res.status, 401);
    const bad = new Client({ name: "x", version: "1" });
    await t.rejects(
      bad.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: "Bearer nope" } } }),
      ),
    );
    t.equal(
      (await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${bob.token}` } })).status,
      405,
      "no server-to-client stream: POST only",
    );
  });

  const mcp = await connect(t, server.url, bob.token);

  await t.test("when the tools are listed, then each has a description and an input schema", async (t) => {
    const { tools } = await mcp.listTools();
    const names = tools.map((x) => x.name);
    for (const name of TOOLS) t.ok(names.includes(name), name);
    for (const tool of tools) {
      t.ok((tool.description ?? "").length > 40, `${tool.name} says what it is for`);
      t.equal(tool.inputSchema.type, "object");
    }
    t.same((tools.find((x) => x.name === "claim_paths")!.inputSchema as any).required, ["patterns"]);
  });

  let sessionId = "";
  await t.test(
    "when the agent starts a session and claims, then it gets the claim, or a conflict naming the holder and the handoff",
    async (t) => {
      const missing = await call(mcp, "start_session", { agent: "bob-claude" });
      t.ok(missing.isError, "over HTTP the repository must be named");
      const started = await call(mcp, "start_session", { agent: "bob-claude", repo: "https://github.com/Acme/api", task: "payments" });
      t.notOk(started.isError, started.text);
      sessionId = started.structured.session.id;
      t.match(started.text, /pass sessionId/);

      const granted = await call(mcp, "claim_paths", { sessionId, patterns: ["src/payments/**"], reason: "payments" });
      t.notOk(granted.isError, granted.text);
      t.match(granted.text, /^Granted claim [0-9a-f-]+ on src\/payments\/\*\* \(exclusive\) in github\.com\/acme\/api/);

      const conflict = await call(mcp, "claim_paths", { sessionId, patterns: ["src/**/*.ts"] });
      t.ok(conflict.isError);
      t.equal(conflict.structured.granted, false);
      t.match(conflict.text, /^Not granted: 1 conflicting claim/);
      t.match(conflict.text, `src/**/*.ts overlaps src/auth/** (exclusive) held by ${alice.name}'s agent alice-claude`);
      t.match(conflict.text, new RegExp(`request_handoff with claimId ${claim.body.id}`));
      t.match(conflict.text, /both match src\/auth\/[^ ]*\.ts/);

      const invalid = await call(mcp, "claim_paths", { sessionId, patterns: ["src/***"] });
      t.ok(invalid.isError);
      t.match(invalid.text, /patterns\.invalid\b/);

      const check = await call(mcp, "check_paths", { sessionId, paths: ["src/auth/login.ts", "src/payments/a.ts"] });
      t.match(check.text, /^1 violation\(s\), 0 notice\(s\) in github\.com\/acme\/api:\nBLOCKED src\/auth\/login\.ts/);
      t.match(check.text, `exclusive claim src/auth/** of ${alice.name}'s agent alice-claude`);
      t.match(check.text, `request_handoff, claimId ${claim.body.id}`);
      t.match(check.structured.results, [{ violations: [{ holderName: alice.name }] }]);

      const handoff = await call(mcp, "request_handoff", { sessionId, claimId: claim.body.id, reason: "need the login form" });
      t.notOk(handoff.isError, handoff.text);
      t.equal(handoff.structured.status, "pending");
      t.match(
        handoff.text,
        `To talk it over, open a thread with them: send_message with to "session", toId "${held.id}", about {"type":"claim","id":"${claim.body.id}"}.`,
        "no thread about the claim yet: how to open one, to the holder's session",
      );

      // The holder's agent answers through its own session token; the claim is then free.
      const holder = await connect(t, server.url, held.token);
      const answered = await call(holder, "answer_handoff", { handoffId: handoff.structured.id, answer: "accept", note: "all yours" });
      t.notOk(answered.isError, answered.text);
      t.match(answered.text, /accepted/);
      const now = await call(mcp, "claim_paths", { sessionId, patterns: ["src/auth/login.ts"] });
      t.notOk(now.isError, now.text);
    },
  );

  await t.test(
    "when an alert is addressed to the session, then list_alerts and the resource show it and ack_alert clears it",
    async (t) => {
      let alerts = await call(mcp, "list_alerts", { sessionId });
      for (let i = 0; i < 50 && !/claim conflict/.test(alerts.text); i++) alerts = await call(mcp, "list_alerts", { sessionId });
      t.match(
        alerts.text,
        new RegExp(
          `claim conflict in github\\.com/acme/api: your session claimed src/\\*\\*/\\*\\.ts \\(rejected\\): src/\\*\\*/\\*\\.ts overlaps src/auth/\\*\\* of ${alice.name}'s agent alice-claude`,
        ),
      );
      const alertId = alerts.structured.items.find((a: any) => a.type === "claim.conflicted").id;
      const acked = await call(mcp, "ack_alert", { alertId });
      t.notOk(acked.isError, acked.text);
      const after = await call(mcp, "list_alerts", { sessionId });
      t.notOk(after.structured.items.some((a: any) => a.id === alertId));

      const { resources } = await mcp.listResources();
      t.same(resources.map((r) => r.uri).sort(), ["brigade://alerts/unacked", "brigade://messages/unread", "brigade://session/claims"]);
    },
  );

  await t.test(
    "when the agent queues for a held area, then it waits in claim_queue, is granted on the holder's release with a note, and sees the alert",
    async (t) => {
      const holderSession = await startSession(alice.api, { agent: { name: "alice-q", kind: "claude-code" }, repo: "github.com/acme/api" });
      const holder = await connect(t, server.url, holderSession.token);
      t.notOk((await call(holder, "claim_paths", { patterns: ["queue/**"] })).isError);
      const waiting = await call(mcp, "claim_paths", { sessionId, patterns: ["queue/a.ts"], onConflict: "queue", maxWaitSeconds: 300 });
      t.notOk(waiting.isError, waiting.text);
      t.equal(waiting.structured.granted, false);
      t.match(waiting.text, /^Not granted yet: queued \(entry [0-9a-f-]+, position 1\)/);
      t.match(waiting.text, `of ${alice.name}'s agent alice-q`);
      const listed = await call(mcp, "claim_queue", { sessionId });
      t.match(listed.text, /1 queue entry:\n- queue entry .* position 1, waiting for claim/);

      const released = await call(holder, "release_claims", { note: "queue/ is yours" });
      t.notOk(released.isError, released.text);
      const after = await call(mcp, "claim_queue", { sessionId, all: true });
      t.match(after.text, new RegExp(`queue entry ${waiting.structured.queued.id} for queue/a\\.ts: granted \\(claim [0-9a-f-]+\\)`));
      let alerts = await call(mcp, "list_alerts", { sessionId });
      for (let i = 0; i < 50 && !/granted from the queue/.test(alerts.text); i++) alerts = await call(mcp, "list_alerts", { sessionId });
      t.match(alerts.text, /was granted from the queue queue\/a\.ts/);
      t.match(alerts.text, /your turn/);
      t.match(alerts.text, /queue\/ is yours/, "the holder's note");

      const again = await call(mcp, "claim_paths", { sessionId, patterns: ["queue/b/**"], onConflict: "queue" });
      t.match(again.text, /^Granted claim/, "a free area is granted at once");
      const other = await call(holder, "claim_paths", { patterns: ["queue/b/c"], onConflict: "queue" });
      const left = await call(holder, "claim_queue", { leave: other.structured.queued.id });
      t.match(left.text, /: left\.$/);
    },
  );

  await t.test("when a session token is used, then the tools act for that session by default and only for it", async (t) => {
    const own = await startSession(bob.api, { agent: { name: "bob-second", kind: "claude-code" } });
    const scoped = await connect(t, server.url, own.token);
    const granted = await call(scoped, "claim_paths", { patterns: ["lib/**"] });
    t.notOk(granted.isError, granted.text);
    t.equal(granted.structured.claim.sessionId, own.id);
    const resource = await scoped.readResource({ uri: "brigade://session/claims" });
    const body = JSON.parse((resource.contents[0] as { text: string }).text);
    t.equal(body.sessionId, own.id);
    t.same(
      body.claims.map((c: any) => c.patterns),
      [["lib/**"]],
    );
    const other = await call(scoped, "claim_paths", { sessionId, patterns: ["x/**"] });
    t.ok(other.isError);
    t.match(other.text, /auth\.outside_session/);
  });
});
