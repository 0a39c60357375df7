/** `brigade status` and `brigade claims`, and a server that answers HTML. */
import { createServer } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

t.test("status and claims", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  const asBob = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const run = (args: string[], env: Record<string, string>, input?: string) =>
    brigade(args, { cwd: repo, env, ...(input !== undefined ? { input } : {}) });

  await t.test("status and claims show the session, its lease, its claims and the others'", async (t) => {
    const held = await startSession(alice.api, { agent: { name: "alice-agent", kind: "claude-code" } });
    await client(server.app, held.token).post("/v1/claims", { sessionId: held.id, patterns: ["src/auth/**"] });
    const started = await run(["session", "start", "--agent", "bob-cli"], asBob);
    t.equal(started.code, 0, started.stderr);
    t.match(started.stdout, /Kept alive by use: every brigade command and git hook acting for it extends its \d+ s lease/);
    t.match(started.stdout, /brigade session heartbeat/);
    t.equal((await run(["claim", "docs/**"], asBob)).code, 0);
    const listed = await run(["claims"], asBob);
    t.match(listed.stdout, `src/auth/**  ${alice.name}'s agent alice-agent`, "people by name in the listing");
    const st = await run(["status"], asBob);
    t.equal(st.code, 0, st.stderr);
    t.match(st.stdout, /Session: .* bob-cli on github\.com\/acme\/api.*, lease until/);
    t.match(st.stdout, /docs\/\*\*/);
    const all = await run(["claims", "--json"], asBob);
    t.equal(JSON.parse(all.stdout).items.length, 2);
    const mine = await run(["claims", "--mine", "--json"], asBob);
    t.same(
      JSON.parse(mine.stdout).items.map((c: { patterns: string[] }) => c.patterns),
      [["docs/**"]],
    );
    const noToken = await run(["status"], userEnv(home, { BRIGADE_URL: server.url, XDG_CONFIG_HOME: join(home, "empty") }));
    t.equal(noToken.code, 1);
    t.match(noToken.stderr, /no token/);
  });

  await t.test("a server answering HTML is named, in one line", async (t) => {
    const web = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>hi</html>"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    t.teardown(() => new Promise((r) => web.close(r)));
    const url = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
    const r = await run(["status"], userEnv(home, { BRIGADE_URL: url, BRIGADE_TOKEN: bob.token }));
    t.equal(r.code, 1);
    t.match(r.stderr, /^brigade: .*HTML page, not Brigade's API: check the server URL/);
    t.equal(r.stderr.trim().split("\n").length, 1);
  });

  await t.test("from a subfolder, an existing file is claimed anchored, and check resolves paths the same way", async (t) => {
    mkdirSync(join(repo, "src/billing"), { recursive: true });
    writeFileSync(join(repo, "src/billing/pay.ts"), "export {};\n");
    const sub = join(repo, "src");
    const claimed = await brigade(["claim", "billing/pay.ts", "--json"], { cwd: sub, env: asBob });
    t.equal(claimed.code, 0, claimed.stderr);
    t.same(JSON.parse(claimed.stdout).patterns, ["/src/billing/pay.ts"]);
    const checked = await brigade(["check", "auth/login.ts", "--json"], { cwd: sub, env: asBob });
    t.equal(checked.code, 1, "src/auth/login.ts lies in alice's claim");
  });
});
