import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { startSession } from "../helpers/app.js";
import { startServer, twoUsers } from "../cli/helpers.js";
import { call } from "./helpers.js";

async function connect(t: { teardown(fn: () => unknown): void }, url: string, token: string) {
  const client = new Client({ name: "brigade-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  t.teardown(() => client.close());
  return client;
}

async function unreadResource(mcp: Client) {
  const resource = await mcp.readResource({ uri: "brigade://messages/unread" });
  return JSON.parse((resource.contents[0] as { text: string }).text);
}

const MESSAGE_TOOLS = ["send_message", "reply", "inbox", "read_thread", "ack_message", "search_messages"];

t.test("messages through the MCP tools", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  // Each developer's agent talks through its own session token, as an agent under the hooks does.
  const aliceAgent = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const bobAgent = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const aliceMcp = await connect(t, server.url, aliceAgent.token);
  const bobMcp = await connect(t, server.url, bobAgent.token);

  await t.test("when the tools are listed, then every message tool and the unread resource is there, described", async (t) => {
    const { tools } = await bobMcp.listTools();
    for (const name of MESSAGE_TOOLS) {
      const found = tools.find((x) => x.name === name);
      t.ok(found, name);
      t.ok((found?.description ?? "").length > 80, `${name} says what it is for and what to do next`);
    }
    const { resources } = await bobMcp.listResources();
    t.ok(resources.some((r) => r.uri === "brigade://messages/unread"));
  });

  let firstId = "";
  await t.test("when an agent messages another agent's session, then it is in that agent's inbox and resource until read", async (t) => {
    const sent = await call(aliceMcp, "send_message", {
      to: "session",
      toId: bobAgent.id,
      subject: "Renaming the users table",
      body: "I am about to rename `users` to `accounts` in the migration; hold off on schema edits.",
      importance: "high",
    });
    t.notOk(sent.isError, sent.text);
    firstId = sent.structured.id;
    t.match(
      sent.text,
      new RegExp(`^Sent message ${firstId} \\("Renaming the users table"\\) to session ${bobAgent.id}; thread ${firstId}\\.`),
    );

    const inbox = await call(bobMcp, "inbox");
    t.notOk(inbox.isError, inbox.text);
    t.match(
      inbox.text,
      new RegExp(`\\[${firstId}\\] .* from ${alice.name}'s agent: "Renaming the users table" thread ${firstId} \\(high; unread\\)`),
    );
    t.match(inbox.text, /Open one with read_thread/);
    t.same(
      (await unreadResource(bobMcp)).unread.map((m: any) => m.id),
      [firstId],
    );
    t.equal((await unreadResource(bobMcp)).sessionId, bobAgent.id);

    const thread = await call(bobMcp, "read_thread", { threadId: firstId });
    t.notOk(thread.isError, thread.text);
    t.match(thread.text, /rename `users` to `accounts`/);
    t.match(thread.text, new RegExp(`Answer with reply \\(messageId ${firstId}\\)`));
    t.equal((await call(bobMcp, "inbox")).text, "No unread messages.", "reading the thread marked it read");
    t.same((await unreadResource(bobMcp)).unread, []);
  });

  await t.test("when the recipient replies, then the sender sees the reply in its inbox and the thread in order", async (t) => {
    const replied = await call(bobMcp, "reply", { messageId: firstId, body: "Understood, I will wait for your merge." });
    t.notOk(replied.isError, replied.text);
    t.equal(replied.structured.threadId, firstId);
    t.equal(replied.structured.parentId, firstId);

    const inbox = await call(aliceMcp, "inbox");
    t.match(inbox.text, new RegExp(`\\[${replied.structured.id}\\] .* from ${bob.name}'s agent: "Renaming the users table" \\(reply\\)`));
    const thread = await call(aliceMcp, "read_thread", { threadId: firstId });
    t.equal(thread.structured.messages.length, 2);
    t.ok(thread.text.indexOf("rename `users`") < thread.text.indexOf("I will wait"), "oldest first");
    t.match(thread.text, new RegExp(`Answer with reply \\(messageId ${replied.structured.id}\\)`));
  });

  await t.test("when a directive is acknowledged twice, then the second changes nothing and it no longer waits", async (t) => {
    const directive = await call(aliceMcp, "send_message", {
      to: "session",
      toId: bobAgent.id,
      subject: "Freeze on payments",
      body: "No changes under src/payments until the audit ends.",
      ackRequired: true,
    });
    t.notOk(directive.isError, directive.text);
    const id = directive.structured.id;
    const waiting = await call(bobMcp, "inbox", { needsAck: true });
    t.match(waiting.text, new RegExp(`\\[${id}\\] .*"Freeze on payments".*directive: acknowledge with ack_message`));
    t.same(
      (await unreadResource(bobMcp)).needsAck.map((m: any) => m.id),
      [id],
    );

    const acked = await call(bobMcp, "ack_message", { messageId: id });
    t.notOk(acked.isError, acked.text);
    t.equal(acked.text, `Acknowledged message ${id} ("Freeze on payments"); its sender is told.`);
    const firstAt = acked.structured.acknowledgedAt;
    t.ok(firstAt);
    const again = await call(bobMcp, "ack_message", { messageId: id });
    t.notOk(again.isError, again.text);
    t.match(again.text, /was already acknowledged at .*; nothing changed\./);
    t.equal(again.structured.acknowledgedAt, firstAt, "the first acknowledgement is the one kept");
    t.equal((await call(bobMcp, "inbox", { needsAck: true })).text, "No directives waiting for your acknowledgement.");
    t.same((await unreadResource(bobMcp)).needsAck, []);
  });

  await t.test("when messages are searched, then words find them and other words do not", async (t) => {
    const found = await call(bobMcp, "search_messages", { query: "accounts migration" });
    t.notOk(found.isError, found.text);
    t.same(
      found.structured.items.map((m: any) => m.id),
      [firstId],
    );
    t.match(found.text, /^1 message\(s\) match "accounts migration":/);
    const none = await call(bobMcp, "search_messages", { query: "kubernetes" });
    t.equal(none.text, 'No messages match "kubernetes".');
  });

  await t.test("when a message is unknown or unreadable, then the tools say so plainly, not as protocol errors", async (t) => {
    const unknown = "01900000-0000-7000-8000-000000000000";
    const ack = await call(bobMcp, "ack_message", { messageId: unknown });
    t.ok(ack.isError);
    t.equal(ack.text, `No message ${unknown} you may read in this organisation. (messages.not_found, HTTP 404).`);
    const answer = await call(bobMcp, "reply", { messageId: unknown, body: "hello?" });
    t.ok(answer.isError);
    t.match(answer.text, /messages\.not_found/);
    const nobody = await call(bobMcp, "send_message", { to: "session", toId: unknown, subject: "hi", body: "there" });
    t.ok(nobody.isError);
    t.match(
      nobody.text,
      new RegExp(
        `No session ${unknown} in this organisation\\. \\(messages\\.recipient_not_found, HTTP 422\\)\\. Invalid: to\\.id: not found\\.`,
      ),
    );
    const broadcast = await call(bobMcp, "send_message", { to: "organisation", subject: "all hands", body: "hello all" });
    t.ok(broadcast.isError, "members do not message the whole organisation");
    t.match(broadcast.text, /messages\.broadcast_forbidden/);
  });
});
