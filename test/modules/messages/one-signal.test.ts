import t from "tap";
import { client, createUser, startTestApp } from "../../helpers/app.js";

// One signal per message: whichever hook asks (the HTTP hooks with a personal token, the command
// hooks with the session's own token, several at once), a new message or directive enters the
// agent's context once; a directive still waiting is reminded in one line on prompts only, and
// the message.sent alert announcing a message is never told beside its notice.

const REPO = "git@github.com:acme/one-signal.git";
const WORKTREE = "/home/bob/one-signal";
const RUN = "cc-bob-one-signal";

t.test("one signal per message in an agent's context", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const lead = await createUser(app, rootToken, "lead");
  const bob = await createUser(app, rootToken, "member");
  const team = await client(app, rootToken).post("/v1/teams", { name: `one-signal-${process.pid}` });
  t.equal(team.status, 201);
  t.equal((await client(app, rootToken).put(`/v1/teams/${team.body.id}/members/${bob.id}`, {})).status < 300, true);

  const headers = { "x-brigade-repo": REPO, "x-brigade-worktree": WORKTREE };
  const started = await client(app, bob.token).post(
    "/v1/hooks/claude-code",
    { session_id: RUN, cwd: WORKTREE, hook_event_name: "SessionStart", source: "startup" },
    headers,
  );
  const sessionId = /Brigade session ([0-9a-f-]{36})/.exec(started.body.hookSpecificOutput.additionalContext)![1]!;
  // The command hooks and the MCP server act with the session's own token (adopted by its run).
  const adopted = await bob.api.post("/v1/sessions", { agent: { name: "claude-code" }, repo: REPO, clientSessionId: RUN });
  t.equal(adopted.body.session.id, sessionId);
  const sessionToken = adopted.body.token as string;

  /** One hook call, by the HTTP hooks (personal token) or a command hook (the session's token). */
  const hook = async (as: "http" | "command", body: Record<string, unknown>) => {
    const res = await client(app, as === "http" ? bob.token : sessionToken).post(
      "/v1/hooks/claude-code",
      { session_id: RUN, cwd: WORKTREE, ...body },
      headers,
    );
    if (res.status !== 200) throw new Error(`hook failed: ${JSON.stringify(res.body)}`);
    return (res.body.hookSpecificOutput?.additionalContext as string | undefined) ?? "";
  };
  const toolCall = (as: "http" | "command") =>
    hook(as, { hook_event_name: "PostToolUse", tool_name: "Read", tool_input: { file_path: `${WORKTREE}/README.md` } });
  const prompt = (as: "http" | "command") => hook(as, { hook_event_name: "UserPromptSubmit", prompt: "go on" });
  /** Every hook kind at once, a few times each: what a busy agent's hooks send. */
  const burst = () =>
    Promise.all([toolCall("http"), toolCall("command"), prompt("http"), prompt("command"), toolCall("http"), prompt("command")]);
  const occurrences = (texts: string[], needle: string) => texts.join("\n").split(needle).length - 1;
  const send = async (token: string, body: Record<string, unknown>) => {
    const res = await client(app, token).post("/v1/messages", body);
    if (res.status !== 201) throw new Error(`sending failed: ${JSON.stringify(res.body)}`);
    return res.body as { id: string; threadId: string };
  };
  const unackedAlerts = async (type: string) =>
    (await client(app, sessionToken).get(`/v1/alerts?unacked=true&session=${sessionId}&type=${type}`)).body.items as unknown[];

  // What the session start leaves (nothing for messages yet) is out of the way.
  await burst();

  await t.test("when a message arrives, then one hook call of many at once tells it, and its alert is not told", async (t) => {
    const message = await send(lead.token, { to: { type: "session", id: sessionId }, subject: "Schema freeze", body: "Hold on." });
    const seen = [...(await burst()), ...(await burst())];
    t.equal(occurrences(seen, `(message ${message.id})`), 1, "told once over every hook kind and call");
    t.equal(occurrences(seen, "sent a message"), 0, "its message.sent alert is not told beside it");
    t.same(await unackedAlerts("message.sent"), [], "that alert is acknowledged");
  });

  await t.test("when a reply arrives in a thread the agent wrote in, then it too is told once", async (t) => {
    const own = await client(app, sessionToken).post("/v1/messages", {
      to: { type: "user", id: lead.id },
      subject: "Can I take src/auth?",
      body: "Ten minutes.",
    });
    t.equal(own.status, 201);
    const answer = await client(app, lead.token).post(`/v1/messages/${own.body.id}/replies`, { body: "Yes, go." });
    t.equal(answer.status, 201);
    const seen = [...(await burst()), ...(await burst())];
    t.equal(occurrences(seen, `(message ${answer.body.id})`), 1);
    t.equal(occurrences(seen, "sent a reply"), 0, "the reply's alert to the writer's session is not told");
  });

  await t.test("when a team directive is in force, then it is told in full once and reminded in one line on prompts only", async (t) => {
    const directive = await send(lead.token, {
      to: { type: "team", id: team.body.id },
      subject: "Freeze payments",
      body: "No changes under src/payments until Friday: the audit is running.",
      ackRequired: true,
    });
    const first = await burst();
    const full = `Directive: "Freeze payments" from ${lead.name} (message ${directive.id})`;
    t.equal(occurrences(first, full), 1, "in full once");
    t.equal(occurrences(first, "needs your acknowledgement"), 0, "its alert is not told beside it");

    const toolCalls = await Promise.all([toolCall("http"), toolCall("command"), toolCall("http")]);
    t.equal(occurrences(toolCalls, directive.id), 0, "tool calls do not repeat it");

    const prompts = [await prompt("http"), await prompt("command")];
    for (const context of prompts) {
      const lines = context.split("\n").filter((l) => l.includes(directive.id));
      t.same(lines, [
        `- Reminder: directive "Freeze payments" (message ${directive.id}) still awaits your acknowledgement: MCP ack_message or \`brigade msg ack ${directive.id}\`.`,
      ]);
    }
    t.equal(occurrences(prompts, full), 0, "never the full notice again");
    t.equal(occurrences(prompts, "audit"), 0, "never its body");

    t.equal((await client(app, sessionToken).post(`/v1/messages/${directive.id}/ack`, {})).status, 200);
    const after = await burst();
    t.equal(occurrences(after, directive.id), 0, "acknowledged: no more reminders");
  });
});
