import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

const REPO = "git@github.com:acme/messages.git";
const WORKTREE = "/home/bob/messages";

t.test("the Claude Code HTTP hook tells the agent of messages for its session", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const other = await createOrg(app, rootToken);

  const hook = (body: Record<string, unknown>) =>
    client(app, bob.token).post(
      "/v1/hooks/claude-code",
      { session_id: "cc-bob-messages", cwd: WORKTREE, ...body },
      { "x-brigade-repo": REPO, "x-brigade-worktree": WORKTREE },
    );
  /** A tool call that changes no file (Read, Grep, …): the commonest PostToolUse. */
  const toolCall = () => hook({ hook_event_name: "PostToolUse", tool_name: "Read", tool_input: { file_path: `${WORKTREE}/README.md` } });
  const edited = (file: string) =>
    hook({
      hook_event_name: "PostToolUse",
      tool_name: "Edit",
      tool_input: { file_path: `${WORKTREE}/${file}`, old_string: "a", new_string: "b" },
    });
  const prompt = () => hook({ hook_event_name: "UserPromptSubmit", prompt: "go on" });
  const contextOf = (res: { status: number; body: any }) => {
    if (res.status !== 200) throw new Error(`hook failed: ${JSON.stringify(res.body)}`);
    return (res.body.hookSpecificOutput?.additionalContext as string | undefined) ?? "";
  };
  const send = async (token: string, body: Record<string, unknown>) => {
    const res = await client(app, token).post("/v1/messages", body);
    if (res.status !== 201) throw new Error(`sending failed: ${JSON.stringify(res.body)}`);
    return res.body as { id: string; threadId: string };
  };

  // Sent before the agent's session exists: the hooks leave it to the inbox.
  const before = await send(alice.token, { to: { type: "user", id: bob.id }, subject: "Old news", body: "from yesterday" });
  const standing = await send(alice.token, {
    to: { type: "user", id: bob.id },
    subject: "Never force-push main",
    body: "Standing rule.",
    ackRequired: true,
  });

  const started = await hook({ hook_event_name: "SessionStart", source: "startup" });
  const sessionId = /Brigade session ([0-9a-f-]{36})/.exec(contextOf(started))![1]!;
  // The agent's MCP server adopts the hooks' session and acts with its token.
  const adopted = await bob.api.post("/v1/sessions", { agent: { name: "claude-code" }, repo: REPO, clientSessionId: "cc-bob-messages" });
  t.equal(adopted.body.session.id, sessionId);
  const agent = client(app, adopted.body.token);
  const secondAgent = await startSession(bob.api, { repo: REPO });

  await t.test("when the session starts, then a directive still in force is told and older plain messages are not", async (t) => {
    const context = contextOf(await toolCall());
    t.match(context, /^Brigade messages for this session:\n/);
    t.match(context, `Directive: "Never force-push main" from ${alice.name} (message ${standing.id})`);
    t.match(context, `brigade msg ack ${standing.id}`);
    t.notMatch(context, "Old news");
    t.notMatch(context, before.id);
  });

  let first = { id: "", threadId: "" };
  await t.test("when a message arrives, then the next tool call tells it once, with how to answer", async (t) => {
    first = await send(alice.token, {
      to: { type: "session", id: sessionId },
      subject: "Pause on src/db",
      body: "I am migrating the schema.",
      importance: "urgent",
    });
    const context = contextOf(await toolCall());
    t.equal(
      context,
      "Brigade messages for this session:\n" +
        `- Message (urgent): "Pause on src/db" from ${alice.name} (message ${first.id}). ` +
        `Read it with MCP read_thread ${first.threadId} (or \`brigade msg thread ${first.threadId}\`); ` +
        `answer with MCP reply (messageId ${first.id}) or \`brigade msg reply ${first.id}\`.`,
    );
    t.same((await toolCall()).body, {}, "not again on the next tool call");
    t.notMatch(contextOf(await prompt()), "Pause on src/db", "nor on the next prompt");
  });

  await t.test("when a file edit is reported, then its answer carries a new message too", async (t) => {
    const reply = await client(app, alice.token).post(`/v1/messages/${first.id}/replies`, { body: "Done, go ahead." });
    t.equal(reply.status, 201);
    const context = contextOf(await edited("src/app.ts"));
    t.match(context, `(message ${reply.body.id})`);
    t.notMatch(contextOf(await edited("src/app.ts")), reply.body.id);
  });

  await t.test(
    "when a directive is not acknowledged, then each prompt reminds of it in one line, tool calls do not, and acknowledging stops it",
    async (t) => {
      const directive = await send(alice.token, {
        to: { type: "session", id: sessionId },
        subject: "Freeze payments",
        body: "No changes under src/payments today.",
        ackRequired: true,
      });
      t.match(contextOf(await toolCall()), `Directive: "Freeze payments" from ${alice.name} (message ${directive.id})`);
      t.same((await toolCall()).body, {}, "a tool call tells a directive once");
      for (let i = 0; i < 2; i++) {
        const context = contextOf(await prompt());
        const lines = context.split("\n").filter((l) => l.includes(directive.id));
        t.same(
          lines,
          [
            `- Reminder: directive "Freeze payments" (message ${directive.id}) still awaits your acknowledgement: MCP ack_message or \`brigade msg ack ${directive.id}\`.`,
          ],
          "one line: the reminder",
        );
        t.notMatch(context, "needs your acknowledgement", "without the directive's alert beside it");
        t.notMatch(context, "No changes under src/payments", "never the body");
      }
      t.equal((await agent.post(`/v1/messages/${directive.id}/ack`, {})).status, 200);
      t.equal((await agent.post(`/v1/messages/${standing.id}/ack`, {})).status, 200);
      t.notMatch(contextOf(await prompt()), "Reminder", "acknowledged directives are not repeated");
    },
  );

  await t.test("when messages are for someone else, then this session is never told of them", async (t) => {
    const elsewhere = await send(alice.token, { to: { type: "session", id: secondAgent.id }, subject: "For the other agent", body: "x" });
    const foreign = await send(other.token, { to: { type: "organisation" }, subject: "Another org's news", body: "y" });
    const theirs = await createUser(app, other.token, "member");
    const foreignDirect = await send(other.token, {
      to: { type: "user", id: theirs.id },
      subject: "Another org's directive",
      body: "z",
      ackRequired: true,
    });
    const seen = [contextOf(await toolCall()), contextOf(await prompt()), contextOf(await edited("src/x.ts"))].join("\n");
    for (const m of [elsewhere, foreign, foreignDirect]) t.notMatch(seen, m.id);
    t.notMatch(seen, "Another org");
    // The other agent's own hooks would: its inbox has it.
    const inbox = await client(app, secondAgent.token).get("/v1/messages?unread=true");
    t.ok(inbox.body.items.some((m: any) => m.id === elsewhere.id));
  });
});
