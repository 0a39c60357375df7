import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, errLines, exec, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

/** What Claude Code sends a PreToolUse hook (hooks reference: common fields, tool_name, tool_input, tool_use_id). */
const preToolUse = (cwd: string, tool: string, toolInput: Record<string, unknown>, sessionId = "claude-session-1") =>
  JSON.stringify({
    session_id: sessionId,
    transcript_path: "/home/dev/.claude/projects/api/claude-session-1.jsonl",
    cwd,
    permission_mode: "default",
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: toolInput,
    tool_use_id: "toolu_01",
  });

t.test("Claude Code hooks", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const holder = client(server.app, held.token);
  const exclusive = await holder.post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"], reason: "login rework" });
  t.equal(exclusive.status, 201);
  t.equal((await holder.post("/v1/claims", { sessionId: held.id, patterns: ["docs/**"], mode: "shared" })).status, 201);

  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const hook = (name: string, input: string, extra: Record<string, string> = {}) =>
    brigade(["hook", name], { cwd: repo, env: { ...env, ...extra }, input });

  await t.test("when installed, then the hooks are merged into the project's settings without clobbering or duplicating", async (t) => {
    mkdirSync(join(repo, ".claude"));
    const mine = {
      permissions: { allow: ["Bash(npm test)"] },
      hooks: { PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "echo checked" }] }] },
    };
    writeFileSync(join(repo, ".claude/settings.local.json"), JSON.stringify(mine));
    for (let i = 0; i < 2; i++) {
      const r = await brigade(["hooks", "install", "--agent", "claude-code", "--transport", "command"], { cwd: repo, env });
      t.equal(r.code, 0, r.stderr);
    }
    t.equal(statSync(join(repo, ".claude/settings.local.json")).mode & 0o777, 0o600, "private: it may hold a token");
    const settings = JSON.parse(readFileSync(join(repo, ".claude/settings.local.json"), "utf8"));
    t.same(settings.permissions, mine.permissions, "other settings kept");
    t.same(settings.hooks.PreToolUse, [
      { matcher: "Bash", hooks: [{ type: "command", command: "echo checked" }] },
      { matcher: "Edit|MultiEdit|Write|NotebookEdit", hooks: [{ type: "command", command: "brigade hook pre-edit", timeout: 10 }] },
    ]);
    t.same(settings.hooks.SessionStart, [{ hooks: [{ type: "command", command: "brigade hook session-start", timeout: 15 }] }]);
    t.same(settings.hooks.UserPromptSubmit, [{ hooks: [{ type: "command", command: "brigade hook prompt-submit", timeout: 10 }] }]);
    t.same(settings.hooks.SessionEnd, [{ hooks: [{ type: "command", command: "brigade hook session-end", timeout: 10 }] }]);

    const shared = await brigade(["hooks", "install", "--agent", "claude-code", "--project"], { cwd: repo, env });
    t.equal(shared.code, 0, shared.stderr);
    const project = JSON.parse(readFileSync(join(repo, ".claude/settings.json"), "utf8"));
    const start = project.hooks.SessionStart[0].hooks[0].command as string;
    t.match(start, /^if command -v brigade >\/dev\/null 2>&1; then brigade hook session-start; else echo .*brigade not installed/);
    const without = await exec("/bin/sh", ["-c", start], { cwd: repo, env: { PATH: "/usr/bin:/bin" } });
    t.equal(without.code, 0, "a teammate without brigade gets no hook error");
    t.match(JSON.parse(without.stdout).systemMessage, /brigade not installed/);
  });

  let sessionId = "";
  await t.test("when a Claude Code session starts, then a Brigade session is opened and described to the agent", async (t) => {
    const r = await hook(
      "session-start",
      JSON.stringify({
        session_id: "claude-session-1",
        transcript_path: "/t.jsonl",
        cwd: repo,
        hook_event_name: "SessionStart",
        source: "startup",
      }),
    );
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    t.equal(out.hookSpecificOutput.hookEventName, "SessionStart");
    sessionId = /Your Brigade session is ([0-9a-f-]{36})/.exec(out.hookSpecificOutput.additionalContext)?.[1] ?? "";
    t.ok(sessionId, out.hookSpecificOutput.additionalContext);
    const session = await client(server.app, bob.token).get(`/v1/sessions/${sessionId}`);
    t.equal(session.body.status, "active");
    t.equal(session.body.agent.kind, "claude-code");
    t.equal(session.body.repo, "github.com/acme/api");
    t.ok(
      readdirSync(join(home, ".config/brigade/sessions")).some((f) => f.startsWith("claude-code-")),
      "remembered for the other hooks",
    );
  });

  await t.test(
    "when an edit targets a file inside another session's exclusive claim, then PreToolUse denies it with an actionable reason",
    async (t) => {
      const r = await hook("pre-edit", preToolUse(repo, "Write", { file_path: join(repo, "src/auth/login.ts"), content: "export {};\n" }));
      t.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      t.equal(out.hookSpecificOutput.hookEventName, "PreToolUse");
      t.equal(out.hookSpecificOutput.permissionDecision, "deny");
      const reason: string = out.hookSpecificOutput.permissionDecisionReason;
      t.match(reason, /src\/auth\/login\.ts is inside an exclusive claim of another session — agent alice-claude/);
      t.match(reason, new RegExp(`request_handoff with claimId ${exclusive.body.id}`));
      t.match(reason, /login rework/);
    },
  );

  await t.test("when an edit targets a free file, then it is allowed and reported as a touch", async (t) => {
    const r = await hook("pre-edit", preToolUse(repo, "Edit", { file_path: "lib/util.ts", old_string: "a", new_string: "b" }));
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, "", "nothing to say: Claude Code's normal permission flow applies");
    const other = await startSession(alice.api);
    const touched = await client(server.app, other.token).post(`/v1/sessions/${other.id}/touches`, { paths: ["lib/util.ts"] });
    t.equal(touched.body.conflicts[0]?.otherSessionId, sessionId, "the touch was recorded for the agent's session");
  });

  await t.test("when an edit is inside a shared claim, or a notebook, then it is allowed, with context for shared claims", async (t) => {
    const shared = await hook("pre-edit", preToolUse(repo, "MultiEdit", { file_path: join(repo, "docs/guide.md"), edits: [] }));
    t.equal(shared.code, 0, shared.stderr);
    const out = JSON.parse(shared.stdout);
    t.notOk(out.hookSpecificOutput.permissionDecision);
    t.match(out.hookSpecificOutput.additionalContext, /docs\/guide\.md is inside a shared claim/);
    const notebook = await hook(
      "pre-edit",
      preToolUse(repo, "NotebookEdit", { notebook_path: join(repo, "src/auth/nb.ipynb"), new_source: "" }),
    );
    t.equal(JSON.parse(notebook.stdout).hookSpecificOutput.permissionDecision, "deny");
  });

  await t.test(
    "when the hook input is malformed, or names a tool it does not know, then the documented safe default applies",
    async (t) => {
      const garbage = await hook("pre-edit", "{not json");
      t.equal(garbage.code, 1, "Claude Code reports a non-blocking hook error");
      t.equal(garbage.stdout, "");
      t.same(errLines(garbage), ["brigade: hook pre-edit: the input is not JSON ({not json…); nothing was checked"]);
      const noTool = await hook("pre-edit", JSON.stringify({ hook_event_name: "PreToolUse" }));
      t.equal(noTool.code, 1);
      t.equal(errLines(noTool).length, 1);
      const bash = await hook("pre-edit", preToolUse(repo, "Bash", { command: "rm -rf src/auth" }));
      t.equal(bash.code, 0);
      const out = JSON.parse(bash.stdout);
      t.notOk(out.hookSpecificOutput.permissionDecision, "allowed");
      t.match(out.systemMessage, /does not know the tool Bash, so it was not checked/, "and the user is told");
    },
  );

  await t.test(
    "when the server is down, then the edit is allowed with a visible warning, or denied with BRIGADE_GUARD=strict",
    async (t) => {
      const input = preToolUse(repo, "Write", { file_path: join(repo, "src/auth/login.ts"), content: "" });
      const down = await hook("pre-edit", input, { BRIGADE_URL: "http://127.0.0.1:9" });
      t.equal(down.code, 0);
      const out = JSON.parse(down.stdout);
      t.notOk(out.hookSpecificOutput.permissionDecision);
      t.match(out.systemMessage, /the edit was allowed WITHOUT a claim check/);
      t.match(out.hookSpecificOutput.additionalContext, /WITHOUT a claim check/);
      const strict = await hook("pre-edit", input, { BRIGADE_URL: "http://127.0.0.1:9", BRIGADE_GUARD: "strict" });
      t.equal(JSON.parse(strict.stdout).hookSpecificOutput.permissionDecision, "deny");
    },
  );

  await t.test("when the session has new alerts, then the next prompt carries them once", async (t) => {
    const state = JSON.parse(
      readFileSync(
        join(
          home,
          ".config/brigade/sessions",
          readdirSync(join(home, ".config/brigade/sessions")).find((f) => f.startsWith("claude-code-"))!,
        ),
        "utf8",
      ),
    );
    const refused = await client(server.app, state.token).post("/v1/claims", { sessionId, patterns: ["src/auth/oauth.ts"] });
    t.equal(refused.status, 409);
    const prompt = JSON.stringify({
      session_id: "claude-session-1",
      transcript_path: "/t.jsonl",
      cwd: repo,
      hook_event_name: "UserPromptSubmit",
      prompt: "go on",
    });
    let context = "";
    for (let i = 0; i < 50 && !context; i++) {
      const r = await hook("prompt-submit", prompt);
      t.equal(r.code, 0, r.stderr);
      context = r.stdout ? JSON.parse(r.stdout).hookSpecificOutput.additionalContext : "";
    }
    t.match(context, /claim conflict in github\.com\/acme\/api: session .* claimed src\/auth\/oauth\.ts \(rejected\)/);
    const again = await hook("prompt-submit", prompt);
    t.equal(again.stdout, "", "already shown");
  });

  await t.test("when the Claude Code session ends, then its Brigade session ends", async (t) => {
    const r = await hook(
      "session-end",
      JSON.stringify({
        session_id: "claude-session-1",
        transcript_path: "/t.jsonl",
        cwd: repo,
        hook_event_name: "SessionEnd",
        reason: "exit",
      }),
    );
    t.equal(r.code, 0, r.stderr);
    t.equal((await client(server.app, bob.token).get(`/v1/sessions/${sessionId}`)).body.status, "ended");
    t.notOk(readdirSync(join(home, ".config/brigade/sessions")).some((f) => f.startsWith("claude-code-")));
    t.notOk(existsSync(join(repo, "src/auth/login.ts")), "nothing here writes files");
  });
});
