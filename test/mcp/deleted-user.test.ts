import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { startServer, twoUsers } from "../cli/helpers.js";
import { call } from "./helpers.js";

// An agent reading messages from someone an admin has since deleted: the sender reads as the
// placeholder "deleted user" in the MCP tools, never as a bare id and never as their old name.
t.test("MCP names a deleted sender as the placeholder", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const bobSession = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const mcp = new Client({ name: "brigade-test", version: "1.0.0" });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${bobSession.token}` } },
    }),
  );
  t.teardown(() => mcp.close());

  const sent = await alice.api.post("/v1/messages", {
    to: { type: "session", id: bobSession.id },
    subject: "Handing over src/auth",
    body: "It is yours from tomorrow.",
  });
  t.equal(sent.status, 201, JSON.stringify(sent.body));
  const before = await call(mcp, "inbox");
  t.match(before.text, alice.name, "named while the sender exists");

  const deleted = await client(server.app, server.rootToken).delete(`/v1/users/${alice.id}`);
  t.equal(deleted.status, 200, JSON.stringify(deleted.body));
  const inbox = await call(mcp, "inbox");
  t.notOk(inbox.isError, inbox.text);
  t.match(inbox.text, "deleted user", "the placeholder");
  t.notMatch(inbox.text, alice.name, "not the old name");
  t.notMatch(inbox.text, `user ${alice.id}`, "not a bare id");
  const thread = await call(mcp, "read_thread", { threadId: sent.body.threadId });
  t.match(thread.text, "deleted user");
  t.match(thread.text, "It is yours from tomorrow.", "the message itself is kept");
});
