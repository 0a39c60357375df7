/**
 * A session never dies silently: the sequences a real day runs through, with leases short enough
 * to run out inside the test (the server's minimum lowered to 1 s, its sweeper every 100 ms).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, exec, git, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

const SHORT = { SESSION_TTL_MIN_SECONDS: "1", SWEEP_INTERVAL_MS: "100" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server has expired the session (its sweeper ran). */
async function expired(api: ReturnType<typeof client>, id: string) {
  for (let i = 0; i < 100; i++) {
    const s = await api.get(`/v1/sessions/${id}`);
    if (s.body.status !== "active") return s.body.status as string;
    await sleep(100);
  }
  throw new Error(`session ${id} did not expire`);
}

t.test("a git day: a session started by hand lapses while idle, and the guard still blocks", async (t) => {
  const server = await startServer(t, SHORT);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-agent", kind: "claude-code" }, ttlSeconds: 600 });
  const claim = await client(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"], ttlSeconds: 600 });
  t.equal(claim.status, 201);

  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const run = (args: string[]) => brigade(args, { cwd: repo, env });
  t.equal((await run(["hooks", "install"])).code, 0);

  const started = await run(["session", "start", "--ttl", "1", "--json"]);
  t.equal(started.code, 0, started.stderr);
  const sessionId = JSON.parse(started.stdout).session.id as string;
  t.equal(await expired(client(server.app, bob.token), sessionId), "expired", "idle past its lease, the session expired");

  await t.test("when a commit touches another session's exclusive claim, then it is blocked and the lapse is said once", async (t) => {
    mkdirSync(join(repo, "src/auth"), { recursive: true });
    writeFileSync(join(repo, "src/auth/login.ts"), "export {};\n");
    git(repo, "add", "src/auth/login.ts");
    const commit = await exec("git", ["commit", "-m", "login"], { cwd: repo, env });
    t.not(commit.code, 0, "the commit is blocked");
    t.match(commit.stderr, new RegExp(`your Brigade session ${sessionId} has ended or expired`));
    t.match(commit.stderr, /checking with your own token/);
    t.match(commit.stderr, `src/auth/login.ts: inside exclusive claim src/auth/** of ${alice.name}'s agent alice-agent`);
    t.notMatch(commit.stderr, /NOT checked/);
    t.equal(git(repo, "rev-list", "--count", "HEAD").trim(), "1", "nothing was committed");
  });

  await t.test("when a command needs the lapsed session, then it says so plainly (and the worktree forgot it)", async (t) => {
    const commit = await exec("git", ["commit", "-m", "login"], { cwd: repo, env });
    t.notMatch(commit.stderr, /has ended or expired/, "said once: the worktree no longer names the lapsed session");
    t.match(commit.stderr, /inside exclusive claim/);

    const again = await run(["session", "start", "--ttl", "1", "--json"]);
    const next = JSON.parse(again.stdout).session.id as string;
    await expired(client(server.app, bob.token), next);
    const claimed = await run(["claim", "docs/**", "--json"]);
    t.equal(claimed.code, 1);
    t.match(claimed.stderr, new RegExp(`^brigade: your Brigade session ${next} has ended or expired.*brigade session start`));
    t.equal(JSON.parse(claimed.stdout).error.code, "cli.session_gone");
    t.equal(claimed.stderr.trim().split("\n").length, 1, "one line");
  });

  await t.test("when the server cannot be reached, then (and only then) the commit goes unchecked", async (t) => {
    const commit = await exec("git", ["commit", "-m", "login"], { cwd: repo, env: { ...env, BRIGADE_URL: "http://127.0.0.1:9" } });
    t.equal(commit.code, 0);
    t.match(commit.stderr, /NOT checked against claims/);
  });
});

const hookInput = (cwd: string, event: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ session_id: "claude-day-1", transcript_path: "/t.jsonl", cwd, hook_event_name: event, ...extra });

t.test("a Claude Code day with command hooks: the lease runs out while idle, the next edit re-opens and is still guarded", async (t) => {
  const server = await startServer(t, { ...SHORT, SESSION_TTL_DEFAULT_SECONDS: "2", SESSION_TTL_MAX_SECONDS: "2" });
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" }, ttlSeconds: 2 });
  const holderApi = client(server.app, held.token);
  t.equal((await holderApi.post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"] })).status, 201);
  const keepAlice = setInterval(() => void holderApi.post(`/v1/sessions/${held.id}/heartbeat`, {}), 500);
  t.teardown(() => clearInterval(keepAlice));

  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const hook = (name: string, input: string) => brigade(["hook", name], { cwd: repo, env, input });
  const edit = (file: string) =>
    hook("pre-edit", hookInput(repo, "PreToolUse", { tool_name: "Edit", tool_input: { file_path: join(repo, file) } }));

  const start = await hook("session-start", hookInput(repo, "SessionStart", { source: "startup" }));
  t.equal(start.code, 0, start.stderr);
  const first = /Your Brigade session is ([0-9a-f-]{36})/.exec(JSON.parse(start.stdout).hookSpecificOutput.additionalContext)![1]!;

  const bobApi = client(server.app, bob.token);
  t.equal(await expired(bobApi, first), "expired", "the agent idled past its lease");

  await t.test("when the next edit is inside another's claim, then it is denied, and a new session was opened", async (t) => {
    const r = await edit("src/auth/login.ts");
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    t.equal(out.hookSpecificOutput.permissionDecision, "deny");
    t.match(out.hookSpecificOutput.permissionDecisionReason, new RegExp(`Your Brigade session ${first} had ended`));
    t.match(
      out.hookSpecificOutput.permissionDecisionReason,
      `src/auth/login.ts is inside an exclusive claim of ${alice.name}'s agent alice-claude`,
    );
    t.match(out.systemMessage, /opened a new session/);
    const sessions = await bobApi.get("/v1/sessions?active=true");
    const mine = sessions.body.items.filter((s: { userId: string }) => s.userId === bob.id);
    t.equal(mine.length, 1, "exactly one live session for the agent");
    t.not(mine[0].id, first);
  });

  await t.test("when the agent then edits a free file, then it is allowed", async (t) => {
    // (On a loaded machine the new 2 s lease may lapse again meanwhile: then it re-opens again.)
    const r = await edit("src/billing/pay.ts");
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stdout, /"deny"/);
  });
});
