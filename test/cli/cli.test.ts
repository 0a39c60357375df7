import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, CLI, commitFiles, countingProxy, errLines, gitRepo, startServer, tempDir, TSX, twoUsers, userEnv } from "./helpers.js";

t.test("brigade against a real server", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  // The files the conflicts below are about exist, so those overlaps are real ones.
  commitFiles(repo, ["lib/db/pool.ts", "watched/a.ts", "deep/a"]);
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const cli = (args: string[], extra: Record<string, string> = {}, cwd = repo) => brigade(args, { cwd, env: { ...env, ...extra } });

  await t.test(
    "when a command is run under `brigade run`, then it gets a session that ends with it, and its exit code is brigade's",
    async (t) => {
      const r = await cli([
        "run",
        "--agent",
        "runner",
        "--task",
        "exit three",
        "--",
        "sh",
        "-c",
        'echo "$BRIGADE_SESSION_ID" > session-id; exit 3',
      ]);
      t.equal(r.code, 3, r.stderr);
      const id = readFileSync(join(repo, "session-id"), "utf8").trim();
      t.match(id, /^[0-9a-f-]{36}$/, "the child saw BRIGADE_SESSION_ID");
      const session = await client(server.app, server.rootToken).get(`/v1/sessions/${id}`);
      t.equal(session.status, 200);
      t.equal(session.body.repo, "github.com/acme/api", "registered for the folder's repository");
      t.equal(session.body.branch, "main");
      t.equal(session.body.worktree, repo);
      t.equal(session.body.task, "exit three");
      t.equal(session.body.status, "ended", "ended when the command exited");
    },
  );

  await t.test("when the command cannot be found, then run says so and exits 127", async (t) => {
    const r = await cli(["run", "--", "no-such-command-here"]);
    t.equal(r.code, 127);
    t.match(r.stderr, /command not found: no-such-command-here/);
  });

  await t.test("when the usage is wrong, then the exit code is 2 with one line", async (t) => {
    for (const args of [["frobnicate"], ["claim"], ["claim", "--ttl", "soon", "src/**"], ["check"], ["run"]]) {
      const r = await cli(args);
      t.equal(r.code, 2, `brigade ${args.join(" ")}`);
      t.equal(errLines(r).length, 1, r.stderr);
      t.match(r.stderr, /^brigade: /);
    }
  });

  await t.test("when the token is bad, then the exit code is 1 with one clear line", async (t) => {
    const r = await cli(["whoami"], { BRIGADE_TOKEN: "not-a-token" });
    t.equal(r.code, 1);
    t.same(errLines(r), [
      "brigade: the server refused the token: The token is not valid. (auth.invalid_token); run `brigade login` or set BRIGADE_TOKEN",
    ]);
    const json = await cli(["whoami", "--json"], { BRIGADE_TOKEN: "not-a-token" });
    t.same(JSON.parse(json.stdout), {
      error: { code: "auth.invalid_token", message: errLines(r)[0]!.replace(/^brigade: /, ""), status: 401 },
    });
  });

  await t.test("when nothing is configured, or the server is down, or the folder is no repository, then one line says so", async (t) => {
    const bare = userEnv(home);
    const none = await brigade(["whoami"], { cwd: repo, env: bare });
    t.equal(none.code, 1);
    t.same(errLines(none), [
      "brigade: no server configured: run `brigade login --server URL --token TOKEN`, or set BRIGADE_URL and BRIGADE_TOKEN",
    ]);
    const down = await cli(["check", "README.md"], { BRIGADE_URL: "http://127.0.0.1:9" });
    t.equal(down.code, 1);
    t.equal(errLines(down).length, 1, down.stderr);
    t.match(down.stderr, /^brigade: cannot reach Brigade at http:\/\/127\.0\.0\.1:9/);
    const elsewhere = await cli(["check", "--staged"], {}, home);
    t.equal(elsewhere.code, 1);
    t.same(errLines(elsewhere), [`brigade: not a git repository: ${home} (run inside a repository, or pass --repo)`]);
  });

  await t.test("when logging in, then the config is stored privately and used afterwards", async (t) => {
    const loginHome = tempDir(t);
    const loginEnv = userEnv(loginHome);
    const bad = await brigade(["login", "--server", server.url, "--token", "wrong"], { cwd: repo, env: loginEnv });
    t.equal(bad.code, 1, "a token the server refuses is not stored");
    const r = await brigade(["login", "--server", server.url, "--token", alice.token], { cwd: repo, env: loginEnv });
    t.equal(r.code, 0, r.stderr);
    const file = join(loginHome, ".config/brigade/config.json");
    t.equal(statSync(file).mode & 0o777, 0o600);
    t.equal(JSON.parse(readFileSync(file, "utf8")).server, server.url);
    const me = await brigade(["whoami", "--json"], { cwd: repo, env: loginEnv });
    t.equal(JSON.parse(me.stdout).user.id, alice.id);
  });

  await t.test("when a claim overlaps another session's, then nothing is granted and the conflict names the holder", async (t) => {
    const held = await startSession(alice.api, { agent: { name: "alice-bot", kind: "codex" } });
    const claim = await client(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["lib/**"] });
    t.equal(claim.status, 201);
    const started = await cli(["session", "start", "--agent", "bob-bot", "--json"]);
    t.equal(started.code, 0, started.stderr);
    const mine = JSON.parse(started.stdout);
    t.equal(mine.savedFor, repo, "remembered for the worktree");

    const r = await cli(["claim", "lib/db/*.ts", "--json"]);
    t.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    t.equal(out.error.code, "claims.conflict");
    t.equal(out.conflicts[0].claimId, claim.body.id);
    t.equal(out.conflicts[0].holder.agent.name, "alice-bot");
    t.match(out.conflicts[0].witness, /^lib\/db\//);

    const ok = await cli(["claim", "app/**", "--reason", "ui"]);
    t.equal(ok.code, 0, ok.stderr);
    t.match(ok.stdout, /^Claimed app\/\*\* \(exclusive\) in github\.com\/acme\/api/);

    const check = await cli(["check", "lib/db/pool.ts", "app/main.ts", "--json"]);
    t.equal(check.code, 1, "a violation fails the check");
    const result = JSON.parse(check.stdout);
    t.equal(result.violations.length, 1, "its own claim on app/** is not reported");
    t.equal(result.violations[0].path, "lib/db/pool.ts");

    // Waiting in line: queued behind alice's claim, granted when she releases with a note.
    const queued = await cli(["claim", "lib/db/*.ts", "--queue", "--max-wait", "300"]);
    t.equal(queued.code, 0, queued.stderr);
    t.match(queued.stdout, /^Queued for lib\/db\/\*\.ts in github\.com\/acme\/api: entry [0-9a-f-]+, position 1/);
    t.match(queued.stdout, /waiting for claim .* of .*'s agent alice-bot/);
    const list = await cli(["queue", "--json"]);
    t.equal(list.code, 0, list.stderr);
    const entry = JSON.parse(list.stdout).items[0];
    t.match(entry, { status: "waiting", position: 1, patterns: ["lib/db/*.ts"] });
    const freed = await client(server.app, held.token).delete(`/v1/claims/${claim.body.id}?note=lib%20is%20yours`);
    t.equal(freed.status, 200);
    const after = await cli(["queue", "--all"]);
    t.match(after.stdout, new RegExp(`${entry.id}  lib/db/\\*\\.ts  granted \\(claim [0-9a-f-]+\\)`));
    const usage = await cli(["claim", "x/**", "--warn", "--queue"]);
    t.equal(usage.code, 2, "--warn and --queue exclude each other");
    const waitAlone = await cli(["claim", "x/**", "--max-wait", "5"]);
    t.equal(waitAlone.code, 2, "--max-wait goes with --queue");
    const again = await client(server.app, held.token).post("/v1/claims", { patterns: ["deep/**"] });
    const second = await cli(["claim", "deep/a", "--queue", "--json"]);
    const left = await cli(["queue", "leave", JSON.parse(second.stdout).id]);
    t.equal(left.code, 0, left.stderr);
    t.match(left.stdout, /deep\/a {2}left/);
    t.equal(again.status, 201);

    const released = await cli(["release", "--note", "done here", "--json"]);
    t.equal(JSON.parse(released.stdout).released.length, 2, "app/** and the claim granted from the queue");
    const ended = await cli(["session", "end"]);
    t.equal(ended.code, 0, ended.stderr);
    t.equal((await client(server.app, server.rootToken).get(`/v1/sessions/${mine.session.id}`)).body.status, "ended");
  });

  await t.test("when watching, then an alert for the session arrives as one NDJSON line", async (t) => {
    const mine = await startSession(bob.api, { agent: { name: "bob-watch", kind: "custom" } });
    const held = await startSession(alice.api);
    t.equal((await client(server.app, mine.token).post("/v1/claims", { sessionId: mine.id, patterns: ["watched/**"] })).status, 201);
    const child = spawn(process.execPath, ["--import", TSX, CLI, "watch", "--json"], {
      cwd: repo,
      env: { ...env, BRIGADE_SESSION_ID: mine.id, BRIGADE_SESSION_TOKEN: mine.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    t.teardown(() => child.kill("SIGKILL"));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    for (let i = 0; i < 200 && !stderr.includes("watching"); i++) await new Promise((r) => setTimeout(r, 50));
    t.match(stderr, /watching alerts of session/);
    t.equal((await client(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["watched/a.ts"] })).status, 409);
    for (let i = 0; i < 200 && !stdout.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
    const alert = JSON.parse(stdout.split("\n")[0]!);
    t.equal(alert.type, "claim.conflicted");
    t.same(alert.recipient, { type: "session", id: mine.id });
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    t.equal(code, 0, "Ctrl-C or SIGTERM ends it cleanly");
  });

  await t.test("when 500 files are staged, then `check --staged` asks the server once, and finds the one in a claim", async (t) => {
    const held = await startSession(alice.api, { agent: { name: "alice-many", kind: "codex" } });
    const claim = await client(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["pkg/q/f-0042.ts"] });
    t.equal(claim.status, 201);
    const many = gitRepo(join(home, "many"));
    for (let i = 0; i < 500; i++) {
      const dir = join(many, "pkg", String.fromCharCode(97 + (i % 26)));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f-${String(i).padStart(4, "0")}.ts`), `export const n = ${i};\n`);
    }
    execFileSync("git", ["add", "-A"], { cwd: many });
    const proxy = await countingProxy(t, server.url);
    const r = await brigade(["check", "--staged", "--json"], { cwd: many, env: { ...env, BRIGADE_URL: proxy.url } });
    t.equal(r.code, 1, "a staged file inside another session's exclusive claim fails the check");
    const out = JSON.parse(r.stdout);
    t.equal(out.checked, 500, "every staged file was checked");
    t.match(out.violations, [{ path: "pkg/q/f-0042.ts", claim: { claimId: claim.body.id, holderName: alice.name } }]);
    t.equal(out.violations.length, 1);
    t.same(proxy.seen, [`POST /v1/repos/${encodeURIComponent("git@github.com:acme/api.git")}/check`], "one request for all 500");
  });

  await t.test("when a claim names a pattern the server rejects, then one line gives the reason", async (t) => {
    const r = await cli(["claim", "src/***", "--session", "00000000-0000-7000-8000-000000000000"]);
    t.equal(r.code, 1);
    t.equal(errLines(r).length, 1, r.stderr);
    t.match(r.stderr, /src\/\*\*\*|pattern/i);
  });
});
