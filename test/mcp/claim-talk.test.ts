import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { client, createOrg, createUser, startSession } from "../helpers/app.js";
import { startServer, twoUsers } from "../cli/helpers.js";
import { call } from "./helpers.js";

async function connect(t: { teardown(fn: () => unknown): void }, url: string, token: string) {
  const mcp = new Client({ name: "brigade-test", version: "1.0.0" });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  t.teardown(() => mcp.close());
  return mcp;
}

/** The send_message arguments a refusal offers, read back from its text as an agent would. */
function offeredSend(text: string): { to: string; toId: string; about: { type: string; id: string } } | null {
  const m = /send_message with to "(\w+)", toId "([0-9a-f-]{36})", about (\{[^}]*\})/.exec(text);
  return m ? { to: m[1]!, toId: m[2]!, about: JSON.parse(m[3]!) } : null;
}
const offeredReply = (text: string) => /reply with messageId "([0-9a-f-]{36})"/.exec(text)?.[1] ?? null;

// A refused agent is told, per conflict, who holds the area and the exact call that talks it over
// with the holder: send_message opening the thread about the claim, or reply continuing it.
t.test("MCP refusals offer the thread about the claim", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  // Agents talk through their own session tokens, as under the hooks.
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const refusedSession = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const aliceMcp = await connect(t, server.url, held.token);
  const bobMcp = await connect(t, server.url, refusedSession.token);
  const claim = await client(server.app, held.token).post("/v1/claims", { patterns: ["src/auth/**"], reason: "token refresh" });
  t.equal(claim.status, 201);
  const claimId = claim.body.id as string;

  let threadId = "";
  await t.test("when nobody has talked about the claim, then the refusal names the holder and the send_message call", async (t) => {
    const refused = await call(bobMcp, "claim_paths", { patterns: ["src/auth/login.ts"] });
    t.ok(refused.isError);
    t.match(refused.text, `held by ${alice.name}'s agent alice-claude`, "the holder by name");
    t.notMatch(refused.text, alice.id, "not by user id");
    t.match(
      refused.text,
      `To talk it over, open a thread with them: send_message with to "session", toId "${held.id}", about {"type":"claim","id":"${claimId}"}.`,
    );
    t.equal(offeredReply(refused.text), null, "no thread to continue yet");
    t.equal(refused.structured.conflicts[0].thread.id, null);

    const offer = offeredSend(refused.text)!;
    const sent = await call(bobMcp, "send_message", { ...offer, subject: "src/auth/login.ts", body: "I need the login redirect fixed." });
    t.notOk(sent.isError, sent.text);
    threadId = sent.structured.threadId;
    const inbox = await call(aliceMcp, "inbox");
    t.match(inbox.text, `thread ${threadId}`, "the holder's agent has it");
    const thread = await client(server.app, held.token).get(`/v1/threads/${threadId}`);
    t.same(thread.body.about ?? thread.body.messages[0].about, { type: "claim", id: claimId, path: null }, "about the claim");
  });

  await t.test("when the thread exists, then the refusal offers reply in it, and replying reaches the holder", async (t) => {
    const refused = await call(bobMcp, "claim_paths", { patterns: ["src/auth/**"] });
    t.ok(refused.isError);
    t.match(refused.text, `To talk it over, continue your thread with them: reply with messageId "${threadId}".`);
    t.equal(offeredSend(refused.text), null);
    const replied = await call(bobMcp, "reply", { messageId: offeredReply(refused.text), body: "Any news?" });
    t.notOk(replied.isError, replied.text);
    t.equal(replied.structured.threadId, threadId, "the same thread");
    const inbox = await call(aliceMcp, "inbox", { threadId });
    t.match(inbox.text, replied.structured.id);
  });

  await t.test("when a path is checked, then a blocked one offers the same thread", async (t) => {
    const check = await call(bobMcp, "check_paths", { paths: ["src/auth/login.ts"] });
    t.match(check.text, `BLOCKED src/auth/login.ts`);
    t.match(check.text, `to talk it over, continue your thread with them: reply with messageId "${threadId}"`);
    t.equal(check.structured.results[0].violations[0].thread.id, threadId);
  });

  await t.test("when the refused agent asks for a handoff, then the answer offers the thread too", async (t) => {
    const handoff = await call(bobMcp, "request_handoff", { claimId, reason: "need the login form" });
    t.notOk(handoff.isError, handoff.text);
    t.match(handoff.text, `To talk it over, continue your thread with them: reply with messageId "${threadId}".`);
    t.same(handoff.structured.thread, { id: threadId, about: { type: "claim", id: claimId }, to: { type: "session", id: held.id } });
  });

  await t.test("when another organisation's agent is refused, then it never sees this organisation's thread", async (t) => {
    const other = await createOrg(server.app, server.rootToken);
    const dan = await createUser(server.app, other.token, "member");
    const eve = await createUser(server.app, other.token, "member");
    const dans = await startSession(dan.api, { agent: { name: "dan-claude", kind: "claude-code" } });
    const eves = await startSession(eve.api);
    const theirs = await client(server.app, dans.token).post("/v1/claims", { patterns: ["src/auth/**"] });
    t.equal(theirs.status, 201);
    const eveMcp = await connect(t, server.url, eves.token);
    const refused = await call(eveMcp, "claim_paths", { patterns: ["src/auth/login.ts"] });
    t.ok(refused.isError);
    t.match(refused.text, `held by ${dan.name}'s agent dan-claude`);
    t.notMatch(refused.text, threadId);
    t.notMatch(refused.text, claimId);
    t.same(offeredSend(refused.text), { to: "session", toId: dans.id, about: { type: "claim", id: theirs.body.id } });
    const peek = await call(eveMcp, "read_thread", { threadId });
    t.ok(peek.isError, "our thread is not theirs to read");
    t.match(peek.text, /404/);
  });
});
