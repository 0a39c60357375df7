import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { client, createOrg, startTestApp } from "../../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REPO = "git@github.com:acme/hooks.git";

t.test("the Claude Code HTTP hook endpoint through an agent's day", async (t) => {
  // Short leases: a session idle for 2 s expires.
  const { app, rootToken } = await startTestApp(t, { SESSION_TTL_DEFAULT_SECONDS: "2" });
  const root = client(app, rootToken);
  const mkUser = async (name: string, displayName: string | undefined, email: string) => {
    const user = await root.post("/v1/users", { name, email, ...(displayName ? { displayName } : {}) });
    const token = await root.post("/v1/tokens", { name: "hooks", userId: user.body.id });
    return { id: user.body.id as string, token: token.body.token as string, api: client(app, token.body.token) };
  };
  const alice = await mkUser("alice", "Alice Martin", "alice@acme.test");
  const bob = await mkUser("bob", undefined, "bob@acme.test");

  const hook = (token: string | undefined, worktree: string, body: unknown, repo: string | null = REPO) =>
    client(app, token).post("/v1/hooks/claude-code", body, {
      ...(repo ? { "x-brigade-repo": repo } : {}),
      "x-brigade-worktree": worktree,
    });
  const aliceHook = (body: Record<string, unknown>) =>
    hook(alice.token, "/home/alice/hooks", { session_id: "cc-alice", cwd: "/home/alice/hooks", ...body });
  const bobHook = (body: Record<string, unknown>) =>
    hook(bob.token, "/work/bob/hooks", { session_id: "cc-bob", cwd: "/work/bob/hooks/src", ...body });
  const edit = (root: string, file: string) => ({
    hook_event_name: "PreToolUse",
    tool_name: "Edit",
    tool_input: { file_path: `${root}/${file}`, old_string: "a", new_string: "b" },
  });

  let aliceSession = "";
  let aliceToken = "";
  let claimId = "";

  t.test("SessionStart opens the session of Claude's session_id and tells the agent", async (t) => {
    const res = await aliceHook({ hook_event_name: "SessionStart", source: "startup" });
    t.equal(res.status, 200);
    t.equal(res.body.hookSpecificOutput.hookEventName, "SessionStart");
    const id = /Brigade session ([0-9a-f-]{36})/.exec(res.body.hookSpecificOutput.additionalContext)?.[1];
    t.ok(id, "the context names the session");
    aliceSession = id!;
    const session = await alice.api.get(`/v1/sessions/${aliceSession}`);
    t.match(session.body, {
      clientSessionId: "cc-alice",
      openedBy: "claude-code-hooks",
      worktree: "/home/alice/hooks",
      repo: "github.com/acme/hooks",
    });
  });

  t.test("the MCP-style start adopts it instead of opening a second session", async (t) => {
    const byWorktree = await alice.api.post("/v1/sessions", {
      agent: { name: "claude-code" },
      repo: REPO,
      worktree: "/home/alice/hooks",
      adopt: "hooks",
    });
    t.equal(byWorktree.status, 200);
    t.equal(byWorktree.body.adopted, true);
    t.equal(byWorktree.body.session.id, aliceSession);
    // The agent's MCP start_session (Streamable HTTP, the official SDK client) adopts it too.
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const mcp = new Client({ name: "claude-code-test", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${address}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${alice.token}` } },
      }),
    );
    t.teardown(() => mcp.close());
    const started = (await mcp.callTool({
      name: "start_session",
      arguments: { repo: REPO, worktree: "/home/alice/hooks" },
    })) as unknown as {
      structuredContent: { session: { id: string }; adopted: boolean; message: string };
    };
    t.equal(started.structuredContent.session.id, aliceSession);
    t.equal(started.structuredContent.adopted, true);
    t.match(started.structuredContent.message, "opened by your Claude Code hooks");
    const byRun = await alice.api.post("/v1/sessions", { agent: { name: "claude-code" }, repo: REPO, clientSessionId: "cc-alice" });
    t.equal(byRun.status, 200);
    t.equal(byRun.body.session.id, aliceSession);
    aliceToken = byRun.body.token;
    const live = await alice.api.get("/v1/sessions?active=true");
    t.equal(live.body.items.filter((s: any) => s.userId === alice.id).length, 1, "one session for the agent");
  });

  t.test("the agent claims without naming its session, and edits inside its own claim are allowed with {}", async (t) => {
    const claim = await client(app, aliceToken).post("/v1/claims", { patterns: ["src/auth/"], reason: "login rework" });
    t.equal(claim.status, 201);
    t.equal(claim.body.sessionId, aliceSession);
    claimId = claim.body.id;
    const res = await aliceHook(edit("/home/alice/hooks", "src/auth/login.ts"));
    t.equal(res.status, 200);
    t.same(res.body, {}, "no decision: Claude Code's own permission flow goes on");
  });

  t.test("another agent's edit inside the claim is denied, naming the developer, the agent, the claim and the handoff", async (t) => {
    const res = await bobHook(edit("/work/bob/hooks", "src/auth/login.ts"));
    t.equal(res.status, 200);
    const out = res.body.hookSpecificOutput;
    t.equal(out.permissionDecision, "deny");
    t.match(
      out.permissionDecisionReason,
      "src/auth/login.ts in github.com/acme/hooks is claimed exclusively by Alice Martin's agent claude-code",
    );
    t.match(
      res.body.systemMessage,
      "brigade: blocked an edit of src/auth/login.ts: claimed by Alice Martin's agent claude-code (src/auth/",
      "the person sees why",
    );
    t.match(out.permissionDecisionReason, claimId);
    t.match(out.permissionDecisionReason, "request_handoff");
    t.match(out.permissionDecisionReason, `brigade handoff request ${claimId}`);
    t.match(
      out.permissionDecisionReason,
      `To talk it over, open a thread with the holder: MCP send_message with to "session", toId "${aliceSession}", about {"type":"claim","id":"${claimId}"}; or \`brigade msg send --to session:${aliceSession} --about claim:${claimId} --subject `,
      "no thread about the claim yet: how to open one, to the holder's agent",
    );
    const opened = await bob.api.post("/v1/messages", {
      to: { type: "session", id: aliceSession },
      subject: "src/auth for ten minutes?",
      body: "I need to fix the login redirect.",
      about: { type: "claim", id: claimId },
    });
    t.equal(opened.status, 201);
    const reply = await client(app, aliceToken).post(`/v1/messages/${opened.body.id}/replies`, { body: "After lunch." });
    t.equal(reply.status, 201);
    const again = (await bobHook(edit("/work/bob/hooks", "src/auth/login.ts"))).body.hookSpecificOutput.permissionDecisionReason;
    t.match(
      again,
      `To talk it over, continue your thread with the holder: MCP reply with messageId "${opened.body.id}", or \`brigade msg reply ${opened.body.id} --body "…"\`.`,
      "the thread about the claim between the two: the refusal's, to reply in",
    );
    t.notMatch(again, "open a thread");
    const outside = await bobHook(edit("/work/bob/hooks", "README.md"));
    t.same(outside.body, {}, "elsewhere is allowed");
    const relative = await bobHook({ ...edit("/work/bob/hooks", "x"), tool_input: { file_path: "auth/x.ts" } });
    t.equal(relative.body.hookSpecificOutput.permissionDecision, "deny", "a relative path resolves against cwd (src/ + auth/x.ts)");
  });

  t.test("a denied edit offers the claim queue, and names the entry once the agent waits in it", async (t) => {
    const first = await bobHook(edit("/work/bob/hooks", "src/auth/login.ts"));
    t.match(first.body.hookSpecificOutput.permissionDecisionReason, 'claim_paths with onConflict "queue"');
    t.match(first.body.hookSpecificOutput.permissionDecisionReason, "brigade claim src/auth/login.ts --queue");
    const mine = (await bob.api.get("/v1/sessions?active=true")).body.items.find((s: any) => s.clientSessionId === "cc-bob");
    const queued = await bob.api.post("/v1/claims", { sessionId: mine.id, patterns: ["src/auth/**"], onConflict: "queue" });
    t.equal(queued.status, 202);
    const again = await bobHook(edit("/work/bob/hooks", "src/auth/login.ts"));
    t.equal(again.body.hookSpecificOutput.permissionDecision, "deny", "still denied while waiting");
    t.match(
      again.body.hookSpecificOutput.permissionDecisionReason,
      `You are already queued for it (queue entry ${queued.body.id}, position 1)`,
    );
    t.equal((await bob.api.delete(`/v1/claims/queue/${queued.body.id}`)).body.status, "left");
  });

  t.test("an allowed edit says what it lies in, and records the touch when the command hook asks", async (t) => {
    const shared = await client(app, aliceToken).post("/v1/claims", { patterns: ["docs/**"], mode: "shared" });
    t.equal(shared.status, 201);
    const inShared = await bobHook(edit("/work/bob/hooks", "docs/guide.md"));
    t.notOk(inShared.body.hookSpecificOutput.permissionDecision, "allowed");
    t.match(
      inShared.body.hookSpecificOutput.additionalContext,
      `docs/guide.md is inside a shared claim (docs/**) of Alice Martin's agent claude-code until ${shared.body.expiresAt} (claim ${shared.body.id}); coordinate before large changes.`,
    );
    const touch = (who: typeof aliceHook, root: string, file: string) => who({ ...edit(root, file), brigade_report_touch: true });
    t.same((await touch(aliceHook, "/home/alice/hooks", "lib/shared.ts")).body, {}, "a free file nobody else edits: nothing to say");
    const second = await touch(bobHook, "/work/bob/hooks", "lib/shared.ts");
    t.match(
      second.body.hookSpecificOutput.additionalContext,
      "lib/shared.ts is also being edited by Alice Martin's agent claude-code",
      "the touch was recorded, and the other agent's on the same file found",
    );
    t.same((await bobHook(edit("/work/bob/hooks", "lib/unreported.ts"))).body, {}, "without brigade_report_touch (HTTP hooks)");
    t.same(
      (await touch(aliceHook, "/home/alice/hooks", "lib/unreported.ts")).body,
      {},
      "no touch was recorded for it: Alice's edit meets no one",
    );
    t.equal((await client(app, aliceToken).delete(`/v1/claims/${shared.body.id}`)).status, 200);
  });

  t.test("a Bash change inside the claim is told to the agent at once, and alerted once to the holder", async (t) => {
    const res = await bobHook({
      hook_event_name: "PostToolUse",
      tool_name: "Bash",
      tool_input: { command: "sed -i s/a/b/ src/auth/login.ts" },
      brigade_changed_paths: ["src/auth/login.ts"],
    });
    t.equal(res.status, 200);
    t.equal(res.body.decision, "block");
    t.match(res.body.reason, "lies in an exclusive claim of Alice Martin's agent claude-code");
    const prompt = await aliceHook({ hook_event_name: "UserPromptSubmit", prompt: "go on" });
    t.match(prompt.body.hookSpecificOutput.additionalContext, "bob@acme.test's agent claude-code");
    const again = await aliceHook({ hook_event_name: "UserPromptSubmit", prompt: "and now?" });
    t.same(again.body, {}, "each alert once");
  });

  t.test("a lease that runs out while idle: the next edit reopens the session and is still guarded", async (t) => {
    const before = await bob.api.get("/v1/sessions?active=true");
    const bobOld = before.body.items.find((s: any) => s.userId === bob.id).id;
    // Alice keeps working (any request with her session token extends her lease); Bob idles past his.
    for (let i = 0; i < 9; i++) {
      await client(app, aliceToken).get(`/v1/claims/${claimId}`);
      await sleep(300);
    }
    const old = await bob.api.get(`/v1/sessions/${bobOld}`);
    t.ok(old.body.status !== "active" || Date.parse(old.body.expiresAt) < Date.now(), "Bob's session ran out");
    const res = await bobHook(edit("/work/bob/hooks", "src/auth/session.ts"));
    t.equal(res.body.hookSpecificOutput.permissionDecision, "deny", "still guarded");
    t.match(res.body.hookSpecificOutput.permissionDecisionReason, "opened session");
    const after = await bob.api.get("/v1/sessions?active=true");
    const fresh = after.body.items.filter((s: any) => s.userId === bob.id);
    t.equal(fresh.length, 1);
    t.not(fresh[0].id, bobOld, "a fresh session for the same Claude session");
    t.equal(fresh[0].clientSessionId, "cc-bob");
    const mine = await alice.api.get(`/v1/sessions/${aliceSession}`);
    t.equal(mine.body.status, "active", "Alice's session was kept alive by her requests");
  });

  t.test("security and bad input", async (t) => {
    const none = await hook(undefined, "/w", { session_id: "x", hook_event_name: "SessionStart" });
    t.equal(none.status, 401);
    const other = await createOrg(app, rootToken);
    const theirs = await hook(other.token, "/elsewhere/hooks", { session_id: "cc-x", ...edit("/elsewhere/hooks", "src/auth/login.ts") });
    t.same(theirs.body, {}, "another organisation's claims are not seen");
    const wrongRun = await hook(aliceToken, "/home/alice/hooks", { session_id: "cc-someone-else", ...edit("/home/alice/hooks", "a.ts") });
    t.equal(wrongRun.status, 403);
    t.equal(wrongRun.body.code, "auth.outside_session");
    const bad = await hook(alice.token, "/w", { hook_event_name: "PreToolUse" });
    t.equal(bad.status, 400);
    t.match(bad.headers["content-type"], "application/problem+json");
    t.match(JSON.stringify(bad.body), "session_id");
    const notJson = await client(app, alice.token).raw("POST", "/v1/hooks/claude-code", "not json", { "content-type": "application/json" });
    t.equal(notJson.status, 400);
    const noRepo = await hook(alice.token, "/home/alice/hooks", { session_id: "cc-alice", ...edit("/home/alice/hooks", "a.ts") }, null);
    t.equal(noRepo.status, 400);
    t.equal(noRepo.body.code, "hooks.repo_required");
    const unknown = await aliceHook({ hook_event_name: "Notification", message: "hi" });
    t.same(unknown.body, {});
  });

  t.test("SessionEnd ends the session", async (t) => {
    const res = await aliceHook({ hook_event_name: "SessionEnd", reason: "exit" });
    t.same(res.body, {});
    const ended = await alice.api.get(`/v1/sessions/${aliceSession}`);
    t.equal(ended.body.status, "ended");
  });
});
