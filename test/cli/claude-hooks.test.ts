import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import {
  brigade,
  CLI,
  commitFiles,
  countingProxy,
  errLines,
  exec,
  git,
  gitRepo,
  startServer,
  TSX,
  tempDir,
  twoUsers,
  userEnv,
} from "./helpers.js";

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
  // The file the refused claim below is about exists, so its overlap with src/auth/** is real.
  commitFiles(repo, ["src/auth/oauth.ts"]);
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
    t.same(settings.hooks.PostToolUse, [
      { matcher: "Bash|Edit|MultiEdit|Write|NotebookEdit", hooks: [{ type: "command", command: "brigade hook post-bash", timeout: 10 }] },
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
    t.match(project.hooks.PostToolUse[0], {
      matcher: "Bash|Edit|MultiEdit|Write|NotebookEdit",
      hooks: [{ command: /then brigade hook post-bash; fi$/ }],
    });
  });

  await t.test("when installed as HTTP hooks, then Bash still gets the local command hook, and its baseline at SessionStart", async (t) => {
    const r = await brigade(["hooks", "install", "--agent", "claude-code", "--command", "/opt/brigade"], { cwd: repo, env });
    t.equal(r.code, 0, r.stderr);
    const settings = JSON.parse(readFileSync(join(repo, ".claude/settings.local.json"), "utf8"));
    const http = { type: "http", url: `${server.url}/v1/hooks/claude-code` };
    t.match(settings.hooks.PostToolUse, [
      { matcher: "Edit|MultiEdit|Write|NotebookEdit", hooks: [http] },
      {
        matcher: "Bash|Edit|MultiEdit|Write|NotebookEdit",
        hooks: [{ type: "command", command: "/opt/brigade hook post-bash", timeout: 10 }],
      },
    ]);
    t.equal(settings.hooks.PostToolUse.length, 2);
    t.match(settings.hooks.SessionStart, [{ hooks: [http, { type: "command", command: "/opt/brigade hook post-bash" }] }]);
    t.equal(settings.hooks.PreToolUse.length, 2, "the user's Bash hook and Brigade's HTTP one, nothing duplicated");
    const back = await brigade(["hooks", "install", "--agent", "claude-code", "--transport", "command"], { cwd: repo, env });
    t.equal(back.code, 0, back.stderr);
    const again = JSON.parse(readFileSync(join(repo, ".claude/settings.local.json"), "utf8"));
    t.same(again.hooks.PostToolUse, [
      { matcher: "Bash|Edit|MultiEdit|Write|NotebookEdit", hooks: [{ type: "command", command: "brigade hook post-bash", timeout: 10 }] },
    ]);
    t.equal(again.hooks.SessionStart.length, 1);
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
      // The server's hook endpoint words it, as for HTTP hooks: the command hook is one request to it.
      t.match(reason, `src/auth/login.ts in github.com/acme/api is claimed exclusively by ${alice.name}'s agent alice-claude`);
      t.match(reason, "pattern src/auth/**");
      t.match(reason, `request_handoff (claimId ${exclusive.body.id})`);
      t.match(reason, `\`brigade handoff request ${exclusive.body.id} --reason "…"\``);
      t.match(reason, /login rework/);
      t.match(out.systemMessage, `blocked an edit of src/auth/login.ts: claimed by ${alice.name}'s agent alice-claude (src/auth/**)`);
    },
  );

  await t.test("when an edit is denied, then the reason offers the claim's thread: to open, then to continue", async (t) => {
    const write = preToolUse(repo, "Write", { file_path: join(repo, "src/auth/login.ts"), content: "export {};\n" });
    const first: string = JSON.parse((await hook("pre-edit", write)).stdout).hookSpecificOutput.permissionDecisionReason;
    const open = `brigade msg send --to session:${held.id} --about claim:${exclusive.body.id} --subject 'Your claim on src/auth/**' --body "…"`;
    t.match(
      first,
      `To talk it over, open a thread with the holder: MCP send_message with to "session", toId "${held.id}", about {"type":"claim","id":"${exclusive.body.id}"}; or \`${open}\`.`,
    );
    // The command as offered, run by a shell in the agent's folder.
    const sent = await exec(
      "sh",
      [
        "-c",
        `brigade() { "$NODE" --import "$TSX_LOADER" "$BRIGADE_CLI" "$@"; }; ${open.replace('--body "…"', '--body "May I fix login.ts?"')}`,
      ],
      { cwd: repo, env: { ...env, NODE: process.execPath, TSX_LOADER: TSX, BRIGADE_CLI: CLI } },
    );
    t.equal(sent.code, 0, sent.stderr);
    const threadId = /^Sent message ([0-9a-f-]{36})/.exec(sent.stdout)![1]!;
    t.match(
      (await holder.get("/v1/messages")).body.items,
      [{ id: threadId, about: { type: "claim", id: exclusive.body.id } }],
      "the holder has it",
    );

    const again: string = JSON.parse((await hook("pre-edit", write)).stdout).hookSpecificOutput.permissionDecisionReason;
    t.match(
      again,
      `To talk it over, continue your thread with the holder: MCP reply with messageId "${threadId}", or \`brigade msg reply ${threadId} --body "…"\`.`,
    );
    t.notMatch(again, "send_message");
  });

  await t.test("when an edit targets a free file, then it is allowed and reported as a touch", async (t) => {
    const r = await hook("pre-edit", preToolUse(repo, "Edit", { file_path: "lib/util.ts", old_string: "a", new_string: "b" }));
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, "", "nothing to say: Claude Code's normal permission flow applies");
    const other = await startSession(alice.api);
    const touched = await client(server.app, other.token).post(`/v1/sessions/${other.id}/touches`, { paths: ["lib/util.ts"] });
    t.equal(touched.body.conflicts[0]?.otherSessionId, sessionId, "the touch was recorded for the agent's session");
  });

  await t.test("when the command hook checks an edit, then it asks the server once, allowed (check and touch) or denied", async (t) => {
    const proxy = await countingProxy(t, server.url);
    const viaProxy = { BRIGADE_URL: proxy.url };
    const session = "claude-session-counted";
    const start = await hook(
      "session-start",
      JSON.stringify({ session_id: session, cwd: repo, hook_event_name: "SessionStart", source: "startup" }),
      viaProxy,
    );
    t.equal(start.code, 0, start.stderr);
    const counted = /Your Brigade session is ([0-9a-f-]{36})/.exec(start.stdout)?.[1];
    t.ok(counted, start.stdout);

    proxy.seen.length = 0;
    const allowed = await hook(
      "pre-edit",
      preToolUse(repo, "Edit", { file_path: "lib/counted.ts", old_string: "a", new_string: "b" }, session),
      viaProxy,
    );
    t.equal(allowed.code, 0, allowed.stderr);
    t.equal(allowed.stdout, "", "allowed, nothing to say");
    t.same(proxy.seen, ["POST /v1/hooks/claude-code"], "one request checked the edit and recorded the touch");
    const other = await startSession(alice.api);
    const touched = await client(server.app, other.token).post(`/v1/sessions/${other.id}/touches`, { paths: ["lib/counted.ts"] });
    t.equal(touched.body.conflicts[0]?.otherSessionId, counted, "the touch is the agent's session's");

    proxy.seen.length = 0;
    const denied = await hook(
      "pre-edit",
      preToolUse(repo, "Write", { file_path: join(repo, "src/auth/login.ts"), content: "x" }, session),
      viaProxy,
    );
    t.equal(JSON.parse(denied.stdout).hookSpecificOutput.permissionDecision, "deny");
    t.same(proxy.seen, ["POST /v1/hooks/claude-code"], "one request for a denied edit too");
    const end = await hook("session-end", JSON.stringify({ session_id: session, cwd: repo, hook_event_name: "SessionEnd" }), viaProxy);
    t.equal(end.code, 0, end.stderr);
  });

  await t.test(
    "when the server goes away and comes back, then the quick path says it could not check (denies under strict), then checks again",
    async (t) => {
      const first = await countingProxy(t, server.url);
      const viaProxy = { BRIGADE_URL: first.url };
      const session = "claude-session-outage";
      const hookOf = (name: string, input: string, extra: Record<string, string> = {}) => hook(name, input, { ...viaProxy, ...extra });
      const start = await hookOf("session-start", JSON.stringify({ session_id: session, cwd: repo, hook_event_name: "SessionStart" }));
      t.equal(start.code, 0, start.stderr);
      const free = preToolUse(repo, "Edit", { file_path: "lib/outage.ts", old_string: "a", new_string: "b" }, session);
      const held = preToolUse(repo, "Write", { file_path: join(repo, "src/auth/login.ts"), content: "x" }, session);
      t.equal((await hookOf("pre-edit", free)).stdout, "", "checked and allowed while the server answers");

      await first.close();
      const unchecked = await hookOf("pre-edit", held);
      t.equal(unchecked.code, 0, unchecked.stderr);
      const warned = JSON.parse(unchecked.stdout);
      t.match(warned.systemMessage, `cannot reach Brigade at ${first.url} (ECONNREFUSED)`);
      t.match(warned.systemMessage, "the edit was allowed WITHOUT a claim check");
      t.notOk(warned.hookSpecificOutput.permissionDecision, "the default guard lets the edit through, saying so");
      const strict = JSON.parse((await hookOf("pre-edit", held, { BRIGADE_GUARD: "strict" })).stdout);
      t.equal(strict.hookSpecificOutput.permissionDecision, "deny", "BRIGADE_GUARD=strict denies what it could not check");

      const back = await countingProxy(t, server.url, first.port);
      const denied = JSON.parse((await hookOf("pre-edit", held)).stdout);
      t.equal(denied.hookSpecificOutput.permissionDecision, "deny", "guarded again once the server is back");
      t.same(back.seen, ["POST /v1/hooks/claude-code"], "in one request, with the session saved before the outage");
      t.equal((await hookOf("session-end", JSON.stringify({ session_id: session, cwd: repo, hook_event_name: "SessionEnd" }))).code, 0);
    },
  );

  await t.test("when an edit is inside a shared claim, or a notebook, then it is allowed, with context for shared claims", async (t) => {
    const shared = await hook("pre-edit", preToolUse(repo, "MultiEdit", { file_path: join(repo, "docs/guide.md"), edits: [] }));
    t.equal(shared.code, 0, shared.stderr);
    const out = JSON.parse(shared.stdout);
    t.notOk(out.hookSpecificOutput.permissionDecision);
    t.match(
      out.hookSpecificOutput.additionalContext,
      `docs/guide.md is inside a shared claim (docs/**) of ${alice.name}'s agent alice-claude`,
    );
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
    t.match(context, /claim conflict in github\.com\/acme\/api: your session claimed src\/auth\/oauth\.ts \(rejected\)/);
    const again = await hook("prompt-submit", prompt);
    t.equal(again.stdout, "", "already shown");

    // A message to the session: told once, as the server keeps track, and not as an alert beside it.
    const sent = await client(server.app, bob.token).post("/v1/messages", {
      to: { type: "session", id: sessionId },
      subject: "Rebase onto main first",
      body: "Main moved.",
    });
    t.equal(sent.status, 201);
    const told = await hook("prompt-submit", prompt);
    t.equal(told.code, 0, told.stderr);
    const toldContext = JSON.parse(told.stdout).hookSpecificOutput.additionalContext as string;
    t.match(toldContext, `"Rebase onto main first"`);
    t.equal(toldContext.split(`(message ${sent.body.id})`).length - 1, 1, "once");
    t.notMatch(toldContext, "sent a message", "its alert is not told beside it");
    t.equal((await hook("prompt-submit", prompt)).stdout, "", "not again on the next prompt");
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

  // ── Bash ─────────────────────────────────────────────────────────────────
  const work = gitRepo(join(home, "api-bash"));
  mkdirSync(join(work, "src/auth"), { recursive: true });
  mkdirSync(join(work, "lib"));
  writeFileSync(join(work, "src/auth/login.ts"), "export const mode = 'one';\n");
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "login");
  const run = (command: string) => exec("/bin/sh", ["-c", command], { cwd: work, env: userEnv(home) });
  /** What Claude Code sends PostToolUse after a Bash call (hooks reference: tool_input.command, tool_response). */
  const postBash = (command: string, sessionId = "claude-bash-1") =>
    JSON.stringify({
      session_id: sessionId,
      transcript_path: "/t.jsonl",
      cwd: work,
      permission_mode: "default",
      hook_event_name: "PostToolUse",
      tool_name: "Bash",
      tool_input: { command, description: "a command" },
      tool_response: { stdout: "", stderr: "", interrupted: false, isImage: false },
      tool_use_id: "toolu_02",
    });
  /** Runs the command as the Bash tool would, then the hook as Claude Code would. */
  const bashCall = async (command: string, extra: Record<string, string> = {}, sessionId?: string) => {
    const ran = await run(command);
    if (ran.code !== 0) throw new Error(`${command} failed: ${ran.stderr}`);
    return brigade(["hook", "post-bash"], { cwd: work, env: { ...env, ...extra }, input: postBash(command, sessionId) });
  };
  const touchedBy = async (path: string) => {
    const other = await startSession(alice.api);
    const touched = await client(server.app, other.token).post(`/v1/sessions/${other.id}/touches`, { paths: [path] });
    return (touched.body.conflicts as { kind: string; otherSessionId: string }[])
      .filter((c) => c.kind === "touch")
      .map((c) => c.otherSessionId);
  };

  await t.test(
    "when a Bash command edits files, then PostToolUse reports what git sees changed since the last report, and names others' claims at once",
    async (t) => {
      writeFileSync(join(work, "src/auth/legacy.ts"), "// left from before the session\n");
      const started = await brigade(["hook", "session-start"], {
        cwd: work,
        env,
        input: JSON.stringify({
          session_id: "claude-bash-1",
          transcript_path: "/t.jsonl",
          cwd: work,
          hook_event_name: "SessionStart",
          source: "startup",
        }),
      });
      t.equal(started.code, 0, started.stderr);
      const bashSession = /Your Brigade session is ([0-9a-f-]{36})/.exec(
        JSON.parse(started.stdout).hookSpecificOutput.additionalContext,
      )?.[1];
      t.ok(bashSession);
      t.equal(readdirSync(join(home, ".config/brigade/snapshots")).length, 1, "the baseline was taken at SessionStart");

      const edit = await bashCall("sed -i \"s/one/two/\" src/auth/login.ts && echo 'export {};' > lib/free.ts");
      t.equal(edit.code, 0, edit.stderr);
      const out = JSON.parse(edit.stdout);
      t.equal(out.decision, "block", "the agent is told at once (the command already ran)");
      const reason: string = out.reason;
      t.match(
        reason,
        new RegExp(`src/auth/login\\.ts lies in an exclusive claim of ${alice.name}'s agent alice-claude \\(claim ${exclusive.body.id}\\)`),
      );
      t.match(reason, new RegExp(`request_handoff \\(claimId ${exclusive.body.id}\\)`));
      t.match(reason, new RegExp(`brigade handoff request ${exclusive.body.id} --reason`));
      t.notMatch(reason, /legacy\.ts/, "changed before the session: not this command's doing");
      t.equal(out.hookSpecificOutput.hookEventName, "PostToolUse");
      t.equal(out.hookSpecificOutput.additionalContext, reason);
      t.match(
        out.systemMessage,
        /brigade: this command changed files inside other sessions' exclusive claims \(it changed lib\/free\.ts, src\/auth\/login\.ts\); the agent was told to stop/,
      );
      t.same(await touchedBy("lib/free.ts"), [bashSession], "the free file was recorded as the session's touch");

      const idle = await bashCall("ls src");
      t.equal(idle.code, 0, idle.stderr);
      t.equal(idle.stdout, "", "unchanged since the last report: nothing to say");

      const more = await bashCall("echo '// again' >> src/auth/login.ts");
      t.equal(JSON.parse(more.stdout).decision, "block", "changed again: reported again");
      t.match(JSON.parse(more.stdout).reason, /src\/auth\/login\.ts lies in an exclusive claim/);
      t.notMatch(JSON.parse(more.stdout).reason, /free\.ts/);

      const fleeting = await bashCall("echo x > src/auth/tmp.ts && sed -i s/x/y/ src/auth/tmp.ts && rm src/auth/tmp.ts");
      t.equal(fleeting.code, 0, fleeting.stderr);
      t.equal(fleeting.stdout, "", "made and removed within one call: git never sees it (the documented limit)");

      const removed = await bashCall("rm src/auth/login.ts");
      t.match(JSON.parse(removed.stdout).reason, /src\/auth\/login\.ts lies in an exclusive claim/, "a deletion is a change too");

      const undone = await bashCall("git checkout -- src/auth/login.ts");
      t.equal(undone.stdout, "", "putting a file back as committed is not reported");
    },
  );

  await t.test(
    "when the server cannot be reached, then the Bash hook fails open with a warning, and the change is reported with the next command",
    async (t) => {
      const down = await bashCall("echo '// offline' >> src/auth/login.ts", { BRIGADE_URL: "http://127.0.0.1:9" });
      t.equal(down.code, 0, down.stderr);
      const out = JSON.parse(down.stdout);
      t.notOk(out.decision);
      t.match(
        out.systemMessage,
        /^brigade: cannot reach Brigade at http:\/\/127\.0\.0\.1:9 .*this command's changes \(src\/auth\/login\.ts\) were NOT reported/,
      );
      t.match(
        out.hookSpecificOutput.additionalContext,
        /not checked against other sessions' claims; they will be reported with your next command/,
      );
      const back = await bashCall("true");
      t.equal(JSON.parse(back.stdout).decision, "block");
      t.match(JSON.parse(back.stdout).reason, /src\/auth\/login\.ts lies in an exclusive claim/);
      const notGit = await brigade(["hook", "post-bash"], {
        cwd: home,
        env,
        input: postBash("ls").replace(JSON.stringify(work), JSON.stringify(home)),
      });
      t.equal(notGit.code, 0, notGit.stderr);
      t.equal(notGit.stdout, "", "outside a repository: nothing to report");
    },
  );

  await t.test(
    "when an edit tool changed a file, then PostToolUse notes it, and the next Bash call does not report it as its own",
    async (t) => {
      /** What Claude Code sends PostToolUse after an edit tool. */
      const afterEdit = (tool: string, toolInput: Record<string, unknown>) =>
        brigade(["hook", "post-bash"], {
          cwd: work,
          env,
          input: JSON.stringify({
            session_id: "claude-bash-1",
            transcript_path: "/t.jsonl",
            cwd: work,
            hook_event_name: "PostToolUse",
            tool_name: tool,
            tool_input: toolInput,
            tool_response: { filePath: toolInput["file_path"] ?? toolInput["notebook_path"], success: true },
            tool_use_id: "toolu_03",
          }),
        });
      // Written by the Write tool (allowed when it ran; the area was claimed by another since).
      writeFileSync(join(work, "src/auth/written.ts"), "export const written = 1;\n");
      const written = await afterEdit("Write", { file_path: join(work, "src/auth/written.ts"), content: "…" });
      t.equal(written.code, 0, written.stderr);
      t.equal(written.stdout, "", "an edit tool's change is noted, not reported again (the edit hooks did)");
      // Changed by the person meanwhile, outside any tool call: still the next command's report.
      writeFileSync(join(work, "src/auth/by-hand.ts"), "export const byHand = 1;\n");

      const next = await bashCall("true");
      t.equal(next.code, 0, next.stderr);
      const out = JSON.parse(next.stdout);
      t.equal(out.decision, "block");
      t.match(out.reason, /src\/auth\/by-hand\.ts lies in an exclusive claim/);
      t.notMatch(out.reason, /written\.ts/, "the Write tool's file is not taken for the Bash call's change");

      // A relative path (from the agent's cwd), and a notebook: noted the same way.
      writeFileSync(join(work, "src/auth/written.ts"), "export const written = 2;\n");
      writeFileSync(join(work, "src/auth/book.ipynb"), "{}\n");
      t.equal((await afterEdit("Edit", { file_path: "src/auth/written.ts", old_string: "1", new_string: "2" })).stdout, "");
      t.equal((await afterEdit("NotebookEdit", { notebook_path: join(work, "src/auth/book.ipynb"), new_source: "" })).stdout, "");
      const quiet = await bashCall("ls src/auth");
      t.equal(quiet.code, 0, quiet.stderr);
      t.equal(quiet.stdout, "", "nothing changed by the command itself");

      const again = await bashCall("echo '// by bash' >> src/auth/written.ts");
      t.match(JSON.parse(again.stdout).reason, /src\/auth\/written\.ts lies in an exclusive claim/, "changed by Bash later: reported");
    },
  );

  await t.test(
    "when a hook process of the same Claude Code session opens its session again, then the Brigade session is adopted, not doubled",
    async (t) => {
      const start = (configHome: string) =>
        brigade(["hook", "session-start"], {
          cwd: work,
          env: { ...env, XDG_CONFIG_HOME: configHome },
          input: JSON.stringify({
            session_id: "claude-adopt-1",
            transcript_path: "/t.jsonl",
            cwd: work,
            hook_event_name: "SessionStart",
            source: "startup",
          }),
        });
      const idOf = (r: Awaited<ReturnType<typeof start>>) =>
        /Your Brigade session is ([0-9a-f-]{36})/.exec(JSON.parse(r.stdout).hookSpecificOutput.additionalContext)?.[1];
      // Two processes that share no state (as after a lost state folder, or two hook runners at once).
      const [a, b] = await Promise.all([start(join(home, "state-a")), start(join(home, "state-b"))]);
      t.equal(a.code, 0, a.stderr);
      t.equal(b.code, 0, b.stderr);
      t.ok(idOf(a));
      t.equal(idOf(a), idOf(b), "one Brigade session");
      const session = await client(server.app, bob.token).get(`/v1/sessions/${idOf(a)}`);
      t.equal(session.body.clientSessionId, "claude-adopt-1");
      const later = await start(join(home, "state-c"));
      t.equal(idOf(later), idOf(a), "a restarted hook process adopts it too");
    },
  );

  await t.test("when the hooks are HTTP hooks, then the Bash hook reports to the session the server opened for the run", async (t) => {
    const bobs = client(server.app, bob.token);
    const headers = { "x-brigade-repo": "git@github.com:acme/api.git", "x-brigade-worktree": work };
    const input = { session_id: "claude-http-1", transcript_path: "/t.jsonl", cwd: work, source: "startup" };
    const opened = await bobs.post("/v1/hooks/claude-code", { ...input, hook_event_name: "SessionStart" }, headers);
    t.equal(opened.status, 200);
    const httpSession = /Brigade session ([0-9a-f-]{36})/.exec(opened.body.hookSpecificOutput.additionalContext)?.[1];
    const baseline = await brigade(["hook", "post-bash"], {
      cwd: work,
      env,
      input: JSON.stringify({ ...input, hook_event_name: "SessionStart" }),
    });
    t.equal(baseline.code, 0, baseline.stderr);
    t.equal(baseline.stdout, "", "the baseline says nothing");
    const r = await bashCall("echo 'export const x = 1;' > lib/http.ts", {}, "claude-http-1");
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, "", "a free file: nothing to tell");
    t.same(await touchedBy("lib/http.ts"), [httpSession], "recorded for the HTTP hooks' session");
  });
});
