/** Onboarding from the CLI: login without the token in argv, tokens, users, teams, status, claims. */
import { join } from "node:path";
import t from "tap";
import { client, createOrg } from "../helpers/app.js";
import { brigade, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

// Some twenty CLI processes, each a fresh Node start: allow for a busy machine.
t.setTimeout(300_000);

t.test("onboarding", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const home = tempDir(t);
  const repo = gitRepo(join(home, "api"));
  const asRoot = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: server.rootToken });
  const asBob = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: bob.token });
  const run = (args: string[], env: Record<string, string>, input?: string) =>
    brigade(args, { cwd: repo, env, ...(input !== undefined ? { input } : {}) });

  await t.test("login reads the token from standard input and stores it; a wrong one is refused in one line", async (t) => {
    const env = userEnv(home);
    const ok = await run(["login", "--server", server.url, "--json"], env, `${alice.token}\n`);
    t.equal(ok.code, 0, ok.stderr);
    t.equal(JSON.parse(ok.stdout).user.id, alice.id);
    const me = await run(["whoami"], env);
    t.equal(me.code, 0, me.stderr);
    const bad = await run(["login", "--server", server.url], env, "nonsense\n");
    t.equal(bad.code, 1);
    t.match(bad.stderr, /^brigade: the server refused the token/);
    t.equal(bad.stderr.trim().split("\n").length, 1);
    const none = await run(["login", "--server", server.url], env, "");
    t.equal(none.code, 2, "no token at all is a usage error");
  });

  await t.test("an admin adds a user with a first token; that token works; a member may not add users", async (t) => {
    const added = await run(["users", "add", "carol", "--role", "lead", "--email", "carol@example.com", "--json"], asRoot);
    t.equal(added.code, 0, added.stderr);
    const { user, token } = JSON.parse(added.stdout);
    t.equal(user.role, "lead");
    t.equal((await client(server.app, token.token).get("/v1/me")).body.user.id, user.id);
    const denied = await run(["users", "add", "mallory"], asBob);
    t.equal(denied.code, 1);
    t.match(denied.stderr, /\(auth\.\w+\)/);
    const role = await run(["users", "role", "carol", "member", "--json"], asRoot);
    t.equal(role.code, 0, role.stderr);
    t.equal(JSON.parse(role.stdout).role, "member");
    const badRole = await run(["users", "role", "carol", "boss"], asRoot);
    t.equal(badRole.code, 2);
    const listed = await run(["users", "list"], asBob);
    t.match(listed.stdout, /carol/);
    const nobody = await run(["users", "role", "nobody", "lead"], asRoot);
    t.match(nobody.stderr, /no user "nobody"/);
  });

  await t.test("tokens: create, list, revoke; a revoked token is refused", async (t) => {
    const created = await run(["token", "create", "laptop", "--json"], asBob);
    t.equal(created.code, 0, created.stderr);
    const minted = JSON.parse(created.stdout);
    const listed = await run(["token", "list", "--json"], asBob);
    t.ok(JSON.parse(listed.stdout).items.some((k: { id: string }) => k.id === minted.id));
    t.equal((await run(["token", "revoke", minted.id], asBob)).code, 0);
    t.equal((await client(server.app, minted.token).get("/v1/me")).status, 401);
    t.equal((await run(["token", "revoke", "not-an-id"], asBob)).code, 2);
  });

  await t.test("teams: create, add by handle, list, remove", async (t) => {
    t.equal((await run(["teams", "create", "payments"], asRoot)).code, 0);
    const add = await run(["teams", "add", "payments", alice.name, bob.name, "--json"], asRoot);
    t.equal(add.code, 0, add.stderr);
    t.same(JSON.parse(add.stdout).members.sort(), [alice.id, bob.id].sort());
    const listed = await run(["teams", "list"], asBob);
    t.match(listed.stdout, new RegExp(`payments: .*${bob.name}`));
    const removed = await run(["teams", "remove", "payments", bob.name, "--json"], asRoot);
    t.same(JSON.parse(removed.stdout).members, [alice.id]);
  });

  await t.test("users delete asks for --yes, then deletes: the token stops working, the list shows a placeholder", async (t) => {
    const added = await run(["users", "add", "dave", "--email", "dave@example.com", "--json"], asRoot);
    t.equal(added.code, 0, added.stderr);
    const { user, token } = JSON.parse(added.stdout);
    const unconfirmed = await run(["users", "delete", "dave"], asRoot);
    t.equal(unconfirmed.code, 2, "without --yes it is a usage error");
    t.match(unconfirmed.stderr, /Repeat with --yes/);
    t.equal((await client(server.app, token.token).get("/v1/me")).status, 200, "nothing was deleted");
    const deleted = await run(["users", "delete", "dave@example.com", "--yes", "--json"], asRoot);
    t.equal(deleted.code, 0, deleted.stderr);
    t.match(JSON.parse(deleted.stdout), { user: { id: user.id, name: "deleted user", email: null, deleted: true }, revokedTokens: 1 });
    t.equal((await client(server.app, token.token).get("/v1/me")).status, 401);
    t.notMatch((await run(["users", "list"], asBob)).stdout, /dave/);
    const all = JSON.parse((await run(["users", "list", "--deleted", "--json"], asBob)).stdout);
    t.match(
      all.items.find((u: { id: string }) => u.id === user.id),
      { name: "deleted user", deleted: true },
    );
    t.match((await run(["users", "delete", user.id, "--yes"], asRoot)).stderr, /no user/, "gone: not found again");
  });

  await t.test("another organisation sees none of it", async (t) => {
    const other = await createOrg(server.app, server.rootToken);
    const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: other.token });
    const listed = await run(["users", "list", "--json"], env);
    t.notOk(JSON.parse(listed.stdout).items.some((u: { id: string }) => u.id === bob.id));
    const nobody = await run(["teams", "add", "payments", bob.name], env);
    t.equal(nobody.code, 1);
  });
});
