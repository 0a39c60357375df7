import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, exec, git, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test("git guards", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-agent", kind: "claude-code" } });
  const holder = client(server.app, held.token);
  const exclusive = await holder.post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"], reason: "login rework" });
  t.equal(exclusive.status, 201);
  t.equal((await holder.post("/v1/claims", { sessionId: held.id, patterns: ["docs/**"], mode: "shared" })).status, 201);

  const home = tempDir(t);
  const bare = join(home, "remote.git");
  git(home, "init", "-q", "--bare", bare);
  const repo = gitRepo(join(home, "api"), "git@github.com:acme/api.git", bare);
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const run = (cmd: string, ...args: string[]) => exec(cmd, args, { cwd: repo, env });

  // A hook the developer already had: it must keep running, first.
  const marker = join(home, "old-hook-ran");
  writeFileSync(join(repo, ".git/hooks/pre-commit"), `#!/bin/sh\necho ran >> '${marker}'\n`);
  chmodSync(join(repo, ".git/hooks/pre-commit"), 0o755);

  const installed = await brigade(["hooks", "install", "--json"], { cwd: repo, env });
  t.equal(installed.code, 0, installed.stderr);
  const report = JSON.parse(installed.stdout);
  t.equal(report.installed.length, 2);
  t.ok(existsSync(join(repo, ".git/hooks/pre-commit.local")), "the existing hook is kept as pre-commit.local");
  t.match(readFileSync(join(repo, ".git/hooks/pre-commit"), "utf8"), /brigade-guard/);

  await t.test(
    "when a staged file is inside another session's exclusive claim, then the commit is blocked, saying who holds it",
    async (t) => {
      mkdirSync(join(repo, "src/auth"), { recursive: true });
      writeFileSync(join(repo, "src/auth/login.ts"), "export {};\n");
      await run("git", "add", "src/auth/login.ts");
      const commit = await run("git", "commit", "-m", "login");
      t.not(commit.code, 0, "git commit fails");
      t.match(commit.stderr, `src/auth/login.ts: inside exclusive claim src/auth/** of ${alice.name}'s agent alice-agent`);
      t.match(commit.stderr, `ask the holder to hand it over: brigade handoff ${exclusive.body.id} --reason`);
      t.match(commit.stderr, new RegExp(exclusive.body.id));
      t.match(commit.stderr, /BRIGADE_GUARD=off/);
      t.ok(existsSync(marker), "the chained hook ran first");
      t.equal(git(repo, "rev-list", "--count", "HEAD").trim(), "1", "nothing was committed");
    },
  );

  await t.test("when the bypass is set, then the same commit goes through", async (t) => {
    const commit = await exec("git", ["commit", "-q", "-m", "login"], { cwd: repo, env: { ...env, BRIGADE_GUARD: "off" } });
    t.equal(commit.code, 0, commit.stderr);
    t.equal(git(repo, "rev-list", "--count", "HEAD").trim(), "2");
  });

  await t.test("when pushed commits change a file inside another session's exclusive claim, then the push is blocked", async (t) => {
    const push = await run("git", "push", "origin", "main");
    t.not(push.code, 0, "git push fails");
    t.match(push.stderr, /1 pushed file is inside other sessions' exclusive claims/);
    t.match(push.stderr, /src\/auth\/login\.ts/);
    t.equal(git(bare, "for-each-ref").trim(), "", "the remote received nothing");

    const bypass = await exec("git", ["push", "-q", "origin", "main"], { cwd: repo, env: { ...env, BRIGADE_GUARD: "off" } });
    t.equal(bypass.code, 0, bypass.stderr);
    t.match(git(bare, "for-each-ref"), /refs\/heads\/main/);
  });

  await t.test("when a staged file is only inside a shared claim, then the commit goes through with a notice", async (t) => {
    mkdirSync(join(repo, "docs"), { recursive: true });
    writeFileSync(join(repo, "docs/guide.md"), "# Guide\n");
    await run("git", "add", "docs/guide.md");
    const commit = await run("git", "commit", "-m", "docs");
    t.equal(commit.code, 0, commit.stderr);
    t.match(commit.stderr, `! docs/guide.md: inside shared claim docs/** of ${alice.name}'s agent alice-agent`);
  });

  await t.test("when the server cannot be reached, then the commit goes through with a warning, unless the guard is strict", async (t) => {
    writeFileSync(join(repo, "src/auth/session.ts"), "export {};\n");
    await run("git", "add", "src/auth/session.ts");
    const down = { ...env, BRIGADE_URL: `http://127.0.0.1:${await closedPort()}` };
    const strict = await exec("git", ["commit", "-m", "strict"], { cwd: repo, env: { ...down, BRIGADE_GUARD: "strict" } });
    t.not(strict.code, 0);
    t.match(strict.stderr, /commit blocked: Brigade could not be reached and BRIGADE_GUARD=strict/);
    const lenient = await exec("git", ["commit", "-m", "offline"], { cwd: repo, env: down });
    t.equal(lenient.code, 0, lenient.stderr);
    t.match(lenient.stderr, /brigade: warning: cannot reach Brigade at .*; this commit was NOT checked against claims/);
  });
});

t.test("when core.hooksPath is set, then the guards go there and uninstall restores the chained hook", async (t) => {
  const home = tempDir(t);
  const repo = gitRepo(join(home, "r"));
  git(repo, "config", "core.hooksPath", ".githooks");
  mkdirSync(join(repo, ".githooks"));
  writeFileSync(join(repo, ".githooks/pre-push"), "#!/bin/sh\nexit 0\n");
  const env = userEnv(home);
  const installed = await brigade(["hooks", "install"], { cwd: repo, env });
  t.equal(installed.code, 0, installed.stderr);
  t.match(readFileSync(join(repo, ".githooks/pre-commit"), "utf8"), /brigade-guard/);
  t.match(readFileSync(join(repo, ".githooks/pre-push"), "utf8"), /brigade-guard/);
  t.equal(readFileSync(join(repo, ".githooks/pre-push.local"), "utf8"), "#!/bin/sh\nexit 0\n");
  t.notOk(existsSync(join(repo, ".git/hooks/pre-commit")), "nothing in .git/hooks, which git ignores here");

  const removed = await brigade(["hooks", "uninstall"], { cwd: repo, env });
  t.equal(removed.code, 0, removed.stderr);
  t.notOk(existsSync(join(repo, ".githooks/pre-commit")));
  t.equal(readFileSync(join(repo, ".githooks/pre-push"), "utf8"), "#!/bin/sh\nexit 0\n", "the chained hook is back");
});
