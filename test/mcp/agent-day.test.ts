import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { join } from "node:path";
import t from "tap";
import { client as api } from "../helpers/app.js";
import { CLI, gitRepo, startServer, tempDir, TSX, twoUsers, userEnv } from "../cli/helpers.js";
import { call, TOOLS } from "./helpers.js";

const NEW_TOOLS = ["begin_work", "heartbeat", "list_claims"];

t.test("MCP for real clients: annotations, output schemas, one session with the hooks, begin_work, prompts", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"), "git@github.com:Acme/api.git");

  // Alice's Claude Code hooks opened her session for this worktree (SessionStart).
  const hook = await api(server.app, alice.token).post(
    "/v1/hooks/claude-code",
    { session_id: "cc-1", hook_event_name: "SessionStart", cwd: repo },
    { "x-brigade-repo": "git@github.com:Acme/api.git", "x-brigade-worktree": repo },
  );
  t.equal(hook.status, 200);
  const hooksSession = /Brigade session ([0-9a-f-]{36})/.exec(hook.body.hookSpecificOutput.additionalContext)![1]!;

  const stdio = new Client({ name: "brigade-test", version: "1.0.0" });
  await stdio.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ["--import", TSX, CLI, "mcp"],
      cwd: repo,
      env: userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: alice.token }),
      stderr: "pipe",
    }),
  );
  t.teardown(() => stdio.close());
  const http = new Client({ name: "brigade-test", version: "1.0.0" });
  await http.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bob.token}` } } }),
  );
  t.teardown(() => http.close());

  await t.test("every tool, over both transports, has annotations and an output schema", async (t) => {
    for (const [transport, c] of [
      ["stdio", stdio],
      ["http", http],
    ] as const) {
      const { tools } = await c.listTools();
      for (const name of [...TOOLS, ...NEW_TOOLS])
        t.ok(
          tools.some((x) => x.name === name),
          `${transport}: ${name}`,
        );
      for (const tool of tools) {
        t.type(tool.annotations?.readOnlyHint, "boolean", `${transport}: ${tool.name} readOnlyHint`);
        t.type(tool.annotations?.destructiveHint, "boolean", `${tool.name} destructiveHint`);
        t.type(tool.annotations?.idempotentHint, "boolean", `${tool.name} idempotentHint`);
        t.equal(tool.annotations?.openWorldHint, false, `${tool.name} openWorldHint`);
        t.equal(tool.outputSchema?.type, "object", `${transport}: ${tool.name} outputSchema`);
      }
      t.equal(tools.find((x) => x.name === "list_claims")!.annotations!.readOnlyHint, true);
      t.equal(tools.find((x) => x.name === "release_claims")!.annotations!.destructiveHint, true);
    }
  });

  await t.test("stdio start_session adopts the session the hooks opened in this worktree, and says so", async (t) => {
    const started = await call(stdio, "start_session", { task: "payments" });
    t.notOk(started.isError, started.text);
    t.equal(started.structured.session.id, hooksSession);
    t.equal(started.structured.adopted, true);
    t.match(started.text, "Adopted your current session");
    t.match(started.structured.message, "Adopted", "structuredContent carries the text");
    const sessions = await alice.api.get("/v1/sessions?active=true");
    t.equal(sessions.body.items.filter((s: any) => s.userId === alice.id).length, 1, "still one session");
  });

  await t.test("begin_work claims and returns alerts in one call; heartbeat and renew_claims extend the session", async (t) => {
    const begun = await call(stdio, "begin_work", { patterns: ["src/payments/**"], reason: "payments" });
    t.notOk(begun.isError, begun.text);
    t.equal(begun.structured.session.id, hooksSession);
    t.equal(begun.structured.granted, true);
    t.equal(begun.structured.claim.sessionId, hooksSession);
    const beat = await call(stdio, "heartbeat", { activity: "working" });
    t.notOk(beat.isError, beat.text);
    t.match(beat.text, "is alive until");
    const renewed = await call(stdio, "renew_claims", {});
    t.notOk(renewed.isError, renewed.text);
    t.equal(renewed.structured.session.id, hooksSession);
  });

  await t.test("over HTTP, list_claims names who holds what, and begin_work reports a conflict with the holder's name", async (t) => {
    const listed = await call(http, "list_claims", { repo: "github.com/acme/api" });
    t.notOk(listed.isError, listed.text);
    t.match(listed.text, `src/payments/** (exclusive) by ${alice.name}'s agent claude-code`);
    t.equal(listed.structured.items.length, 1);
    const conflict = await call(http, "begin_work", { repo: "git@github.com:Acme/api.git", patterns: ["src/payments/api.ts"] });
    t.notOk(conflict.isError, conflict.text);
    t.equal(conflict.structured.granted, false);
    t.match(conflict.text, `held by ${alice.name}'s agent claude-code`);
    t.match(conflict.text, "request_handoff");
    const mine = await call(http, "list_claims", { repo: "github.com/acme/api", mine: true });
    t.ok(mine.isError, "mine needs a current session");
  });

  await t.test("alerts name people and agents, not ids", async (t) => {
    const touched = await api(server.app, bob.token).post(
      "/v1/hooks/claude-code",
      {
        session_id: "cc-bob",
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_input: {},
        brigade_changed_paths: ["src/payments/a.ts"],
      },
      { "x-brigade-repo": "git@github.com:Acme/api.git", "x-brigade-worktree": "/home/bob/api" },
    );
    t.equal(touched.body.decision, "block");
    let listed = await call(stdio, "list_alerts", {});
    for (let i = 0; i < 40 && !listed.text.includes("edit conflict"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = await call(stdio, "list_alerts", {});
    }
    t.match(listed.text, `${bob.name}'s agent claude-code edited src/payments/a.ts inside claim`);
    t.match(listed.text, "of your session");
  });

  await t.test("when the session ends under the agent, the tools say so and begin_work opens a fresh one", async (t) => {
    t.equal((await alice.api.delete(`/v1/sessions/${hooksSession}`)).status, 200);
    const refused = await call(stdio, "claim_paths", { patterns: ["src/payments/**"] });
    t.ok(refused.isError);
    t.match(refused.text, "the session has ended or expired");
    const again = await call(stdio, "begin_work", { patterns: ["src/payments/**"] });
    t.notOk(again.isError, again.text);
    t.not(again.structured.session.id, hooksSession);
    t.equal(again.structured.granted, true);
  });

  await t.test("prompts for the common flows", async (t) => {
    const { prompts } = await http.listPrompts();
    t.same(prompts.map((p) => p.name).sort(), ["ask_for_handoff", "coordinate_before_editing"]);
    const got = await stdio.getPrompt({ name: "ask_for_handoff", arguments: { claimId: "c-1", reason: "need it" } });
    t.match((got.messages[0]!.content as { text: string }).text, "request_handoff with claimId c-1");
  });
});
