import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { join } from "node:path";
import t from "tap";
import { client as api, startSession } from "../helpers/app.js";
import { CLI, gitRepo, startServer, tempDir, TSX, twoUsers, userEnv } from "../cli/helpers.js";
import { call, TOOLS } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("MCP over stdio (brigade mcp)", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const claim = await api(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"] });
  t.equal(claim.status, 201);

  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"), "git@github.com:Acme/api.git");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", TSX, CLI, "mcp"],
    cwd: repo,
    env: userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token }),
    stderr: "pipe",
  });
  const mcp = new Client({ name: "brigade-test", version: "1.0.0" });
  await mcp.connect(transport);
  let closed = false;
  t.teardown(async () => {
    if (!closed) await mcp.close();
  });

  await t.test("when the tools are listed, then every Brigade tool is there", async (t) => {
    const names = (await mcp.listTools()).tools.map((x) => x.name);
    for (const name of TOOLS) t.ok(names.includes(name), name);
  });

  let sessionId = "";
  await t.test("when the agent starts a session, then it is for the folder's repository and becomes the current one", async (t) => {
    const started = await call(mcp, "start_session", { agent: "bob-claude", task: "payments" });
    t.notOk(started.isError, started.text);
    sessionId = started.structured.session.id;
    t.equal(started.structured.session.repo, "github.com/acme/api");
    t.equal(started.structured.session.branch, "main");
    t.equal(started.structured.session.worktree, repo);
  });

  await t.test(
    "when it claims, then the current session holds the claim; a conflict names holder, expiry, witness and the handoff",
    async (t) => {
      const granted = await call(mcp, "claim_paths", { patterns: ["src/payments/**"] });
      t.notOk(granted.isError, granted.text);
      t.equal(granted.structured.claim.sessionId, sessionId);

      const conflict = await call(mcp, "claim_paths", { patterns: ["src/auth/login.ts"] });
      t.ok(conflict.isError);
      t.match(
        conflict.text,
        new RegExp(
          `src/auth/login\\.ts overlaps src/auth/\\*\\* \\(exclusive\\) held by ${alice.name}'s agent alice-claude until \\d{4}-\\d\\d-\\d\\dT[^ ]+ \\(claim [0-9a-f-]+\\); both match src/auth/login\\.ts\\. To ask for it: request_handoff with claimId`,
        ),
      );

      const absolute = await call(mcp, "check_paths", { paths: [join(repo, "src/auth/login.ts")] });
      t.match(absolute.text, /BLOCKED src\/auth\/login\.ts/, "absolute paths in the repository are understood");
    },
  );

  await t.test("when an alert arrives, then the unacknowledged-alerts resource has it", async (t) => {
    let alerts: any[] = [];
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      const resource = await mcp.readResource({ uri: "brigade://alerts/unacked" });
      alerts = JSON.parse((resource.contents[0] as { text: string }).text).alerts;
      if (alerts.length === 0) await sleep(50);
    }
    t.equal(alerts[0]?.type, "claim.conflicted");
    t.match(alerts[0]?.summary, /claim conflict in github\.com\/acme\/api/);
    const claims = JSON.parse(((await mcp.readResource({ uri: "brigade://session/claims" })).contents[0] as { text: string }).text);
    t.same(
      claims.claims.map((c: any) => c.patterns),
      [["src/payments/**"]],
    );
  });

  await t.test("when the client disconnects, then the session the server started ends", async (t) => {
    await mcp.close();
    closed = true;
    let status = "active";
    for (let i = 0; i < 100 && status === "active"; i++) {
      await sleep(50);
      status = (await api(server.app, bob.token).get(`/v1/sessions/${sessionId}`)).body.status;
    }
    t.equal(status, "ended");
  });
});
