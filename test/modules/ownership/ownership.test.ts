import { readFileSync } from "node:fs";
import t from "tap";
import { ownersSchema } from "../../../src/modules/ownership/ownership.schemas.js";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

const githubExample = readFileSync(new URL("./fixtures/github-docs-example.CODEOWNERS", import.meta.url), "utf8");
const repo = "github.com/acme/api";
const enc = encodeURIComponent(repo);
// The same repo spelled as a remote: every spelling is one repo.
const remote = encodeURIComponent("git@github.com:Acme/api.git");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const owners = (path: string) => `/v1/repos/${enc}/owners?path=${encodeURIComponent(path)}`;

t.test("ownership", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const admin = client(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");
  const member = await createUser(app, rootToken, "member");

  t.test("CODEOWNERS", async (t) => {
    t.test("when an admin uploads GitHub's example, then every rule is stored and the upload is an event", async (t) => {
      const res = await admin.put(`/v1/repos/${remote}/codeowners`, { content: githubExample });
      t.equal(res.status, 200);
      t.match(res.body, { repo, rules: 12, errors: [] });
      t.ok(Date.parse(res.body.updatedAt) > 0);
      const got = await member.api.get(`/v1/repos/${enc}/codeowners`);
      t.equal(got.status, 200);
      t.equal(got.body.content, githubExample);
      t.equal(got.body.rules.length, 12);
      t.same(got.body.rules.at(-1), { line: 61, pattern: "/apps/github", owners: [] });
      t.equal(got.body.updatedAt, res.body.updatedAt);
      const events = await admin.get("/v1/events?type=codeowners.updated");
      t.match(events.body.items.at(-1), { repo, subject: { type: "repo", id: repo }, payload: { rules: 12, errors: 0 } });
    });

    t.test("when owners of paths are asked, then the last matching line decides", async (t) => {
      const cases: [string, string[], number, string][] = [
        ["README.md", ["@global-owner1", "@global-owner2"], 8, "*"],
        ["src/app.js", ["@js-owner"], 14, "*.js"],
        ["notes/todo.txt", ["@octo-org/octocats"], 25, "*.txt"],
        ["docs/getting-started.md", ["@doctocat"], 44, "/docs/"],
        ["build/logs/today.log", ["@octocat"], 53, "**/logs"],
        ["scripts/deploy.sh", ["@doctocat", "@octocat"], 48, "/scripts/"],
        ["apps/web/index.html", ["@octocat"], 60, "/apps/"],
      ];
      for (const [path, expected, line, pattern] of cases) {
        const res = await member.api.get(owners(path));
        t.equal(res.status, 200, path);
        t.same(res.body.codeowners, { owners: expected, rule: { line, pattern }, unowned: false }, path);
        t.match(res.body, { repo, path });
        // The route writes plain JSON (not re-validated by the server): the reply is read against its schema here.
        const read = ownersSchema.safeParse(res.body);
        t.ok(read.success, `${path}: on the schema${read.success ? "" : `: ${read.error.message}`}`);
        t.same(read.data, res.body, `${path}: no field beside the schema's`);
      }
    });

    t.test("when the deciding rule names no owners, then the path is explicitly unowned", async (t) => {
      const res = await member.api.get(owners("apps/github/readme.md"));
      t.same(res.body.codeowners, { owners: [], rule: { line: 61, pattern: "/apps/github" }, unowned: true });
    });

    t.test("when a directory is asked (trailing slash), then the last rule covering all of it decides, as on GitHub", async (t) => {
      const cases: [string, string[], number, string, string][] = [
        ["docs/", ["@doctocat"], 44, "/docs/", "the later docs/* (line 35) is only docs' direct children"],
        ["docs/api/", ["@doctocat"], 44, "/docs/", "docs/* does not reach into docs/api"],
        ["build/logs/", ["@octocat"], 53, "**/logs", "both /build/logs/ and **/logs cover it; the later wins"],
        ["src/", ["@global-owner1", "@global-owner2"], 8, "*", "*.js and *.txt are only some of its files"],
        ["apps/web/", ["@octocat"], 60, "/apps/", "inside /apps/"],
      ];
      for (const [path, expected, line, pattern, why] of cases) {
        const res = await member.api.get(owners(path));
        t.equal(res.status, 200, path);
        t.same(res.body.codeowners, { owners: expected, rule: { line, pattern }, unowned: false }, `${path}: ${why}`);
        t.match(res.body, { repo, path, directory: true });
      }
      const unowned = await member.api.get(owners("apps/github/"));
      t.same(unowned.body.codeowners, { owners: [], rule: { line: 61, pattern: "/apps/github" }, unowned: true });
      t.equal((await member.api.get(owners("docs/api"))).body.directory, false, "without the slash: a file");
    });

    t.test(
      "when a lead re-uploads, then answers change at once, and a path no rule matches has no owners and is not unowned",
      async (t) => {
        const res = await lead.api.put(`/v1/repos/${enc}/codeowners`, { content: "# only docs\n/docs/ @docs-team\n" });
        t.equal(res.status, 200);
        t.equal(res.body.rules, 1);
        const docs = await member.api.get(owners("docs/a.md"));
        t.same(docs.body.codeowners, { owners: ["@docs-team"], rule: { line: 2, pattern: "/docs/" }, unowned: false });
        const none = await member.api.get(owners("README.md"));
        t.same(none.body.codeowners, { owners: [], rule: null, unowned: false });
      },
    );

    t.test("when some lines are invalid, then each is reported with its line and the valid ones are stored", async (t) => {
      const content = ["*.ts @ts-team", "src/*** @a", "!vendor/ @b", "lib/ not-an-owner", "lib/ @lib-team", ""].join("\n");
      const res = await admin.put(`/v1/repos/${enc}/codeowners`, { content });
      t.equal(res.status, 200);
      t.equal(res.body.rules, 2);
      t.same(
        res.body.errors.map((e: any) => e.line),
        [2, 3, 4],
      );
      t.match(res.body.errors[0].reason, /\*\*\*/);
      t.match(res.body.errors[2].reason, /not-an-owner/);
      const got = await admin.get(`/v1/repos/${enc}/codeowners`);
      t.same(
        got.body.rules.map((r: any) => r.line),
        [1, 5],
      );
      t.same(
        got.body.errors.map((e: any) => e.line),
        [2, 3, 4],
      );
      t.same((await member.api.get(owners("lib/x.ts"))).body.codeowners.rule, { line: 5, pattern: "lib/" });
    });

    t.test("when the file is too large, then 422 and nothing is stored", async (t) => {
      const before = await admin.get(`/v1/repos/${enc}/codeowners`);
      const big = await admin.put(`/v1/repos/${enc}/codeowners`, { content: `* @a\n${"#".repeat(3 * 1024 * 1024)}` });
      t.equal(big.status, 422);
      t.equal(big.body.code, "ownership.codeowners_too_large");
      t.equal(big.body.errors[0].field, "content");
      const tooManyLines = await admin.put(`/v1/repos/${enc}/codeowners`, { content: "* @a\n".repeat(20_001) });
      t.equal(tooManyLines.status, 422);
      t.equal(tooManyLines.body.code, "ownership.codeowners_too_large");
      const huge = await admin.put(`/v1/repos/${enc}/codeowners`, { content: "#".repeat(4 * 1024 * 1024 + 1) });
      t.equal(huge.status, 413, "past the route's 4 MB body limit");
      const after = await admin.get(`/v1/repos/${enc}/codeowners`);
      t.equal(after.body.content, before.body.content);
      t.equal(after.body.updatedAt, before.body.updatedAt);
    });

    t.test("when a repo has no CODEOWNERS, then GET is 404 and owners say codeowners null", async (t) => {
      const other = encodeURIComponent("github.com/acme/empty");
      const res = await member.api.get(`/v1/repos/${other}/codeowners`);
      t.equal(res.status, 404);
      t.equal(res.body.code, "ownership.codeowners_not_found");
      const o = await member.api.get(`/v1/repos/${other}/owners?path=a.ts`);
      t.equal(o.status, 200);
      t.same(o.body, {
        repo: "github.com/acme/empty",
        path: "a.ts",
        directory: false,
        codeowners: null,
        modules: [],
        claims: [],
        contracts: [],
      });
    });
  });

  t.test("modules", async (t) => {
    const team = await admin.post("/v1/teams", { name: "auth-team" });
    t.equal(team.status, 201);

    t.test("when a lead defines modules, then they are listed and the owners of a path name those containing it", async (t) => {
      const auth = await lead.api.put(`/v1/repos/${enc}/modules/auth`, { patterns: ["src/auth/", "lib/session.ts"], teamId: team.body.id });
      t.equal(auth.status, 200);
      t.match(auth.body, { repo, name: "auth", patterns: ["src/auth/", "lib/session.ts"], teamId: team.body.id });
      const src = await admin.put(`/v1/repos/${remote}/modules/src`, { patterns: ["src/**"] });
      t.match(src.body, { repo, name: "src", teamId: null });
      const docs = await admin.put(`/v1/repos/${enc}/modules/docs.site`, { patterns: ["docs/"] });
      t.equal(docs.status, 200);

      const list = await member.api.get(`/v1/repos/${enc}/modules`);
      t.same(
        list.body.items.map((m: any) => m.name),
        ["auth", "docs.site", "src"],
      );

      const res = await member.api.get(owners("src/auth/login.ts"));
      t.same(res.body.modules, [
        { name: "auth", patterns: ["src/auth/", "lib/session.ts"], teamId: team.body.id, matchedPattern: "src/auth/" },
        { name: "src", patterns: ["src/**"], teamId: null, matchedPattern: "src/**" },
      ]);
      t.same(
        (await member.api.get(owners("lib/session.ts"))).body.modules.map((m: any) => m.matchedPattern),
        ["lib/session.ts"],
      );
      t.same((await member.api.get(owners("README.md"))).body.modules, []);
      const events = await admin.get("/v1/events?type=module.updated");
      t.match(events.body.items.at(-3), {
        repo,
        subject: { type: "module", id: auth.body.id },
        payload: { name: "auth", patterns: ["src/auth/", "lib/session.ts"], teamId: team.body.id },
      });
    });

    t.test("when a module is replaced, then the next answer uses its new patterns and team", async (t) => {
      const res = await lead.api.put(`/v1/repos/${enc}/modules/auth`, { patterns: ["lib/auth/"] });
      t.equal(res.status, 200);
      t.equal(res.body.teamId, null);
      const before = await member.api.get(owners("src/auth/login.ts"));
      t.same(
        before.body.modules.map((m: any) => m.name),
        ["src"],
      );
      const after = await member.api.get(owners("lib/auth/x.ts"));
      t.same(
        after.body.modules.map((m: any) => m.name),
        ["auth"],
      );
      t.equal((await member.api.get(`/v1/repos/${enc}/modules`)).body.items.length, 3, "replaced, not duplicated");
    });

    t.test("when a module is deleted, then it is gone, the deletion is an event, and deleting again is 404", async (t) => {
      const res = await lead.api.delete(`/v1/repos/${enc}/modules/docs.site`);
      t.equal(res.status, 200);
      t.equal(res.body.name, "docs.site");
      t.same((await member.api.get(owners("docs/a.md"))).body.modules, []);
      const events = await admin.get("/v1/events?type=module.deleted");
      t.match(events.body.items.at(-1), { repo, subject: { type: "module", id: res.body.id }, payload: { name: "docs.site" } });
      const again = await lead.api.delete(`/v1/repos/${enc}/modules/docs.site`);
      t.equal(again.status, 404);
      t.equal(again.body.code, "ownership.module_not_found");
    });

    t.test("bad input", async (t) => {
      const unknownTeam = await admin.put(`/v1/repos/${enc}/modules/x`, {
        patterns: ["x/"],
        teamId: "00000000-0000-4000-8000-000000000000",
      });
      t.equal(unknownTeam.status, 404);
      t.equal(unknownTeam.body.code, "teams.not_found");
      const badPatterns = await admin.put(`/v1/repos/${enc}/modules/x`, { patterns: ["ok/", "src/***", "a/../b"] });
      t.equal(badPatterns.status, 422);
      t.equal(badPatterns.body.code, "patterns.invalid");
      t.same(
        badPatterns.body.errors.map((e: any) => e.field),
        ["patterns[1]", "patterns[2]"],
      );
      t.equal((await admin.put(`/v1/repos/${enc}/modules/x`, { patterns: [] })).status, 400, "no patterns");
      t.equal(
        (await admin.put(`/v1/repos/${enc}/modules/x`, { patterns: Array.from({ length: 257 }, (_, i) => `f${i}`) })).status,
        400,
        "too many",
      );
      const badName = await admin.put(`/v1/repos/${enc}/modules/Auth`, { patterns: ["x/"] });
      t.equal(badName.status, 400);
      t.equal(badName.body.errors[0].field, "params.name");
      // fastify's router refuses parameters over maxParamLength (100) with 414 before validation.
      t.ok(
        [400, 414].includes((await admin.put(`/v1/repos/${enc}/modules/${"a".repeat(101)}`, { patterns: ["x/"] })).status),
        "name too long",
      );
      t.equal(
        (await admin.get(`/v1/repos/${enc}/modules`)).body.items.some((m: any) => m.name === "x"),
        false,
        "nothing stored",
      );
    });
  });

  t.test("claims covering a path", async (t) => {
    const alice = await createUser(app, rootToken, "member");
    const bob = await createUser(app, rootToken, "member");
    const a = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
    const b = await startSession(bob.api, { agent: { name: "bob-codex", kind: "codex" } });
    const asA = client(app, a.token);
    const asB = client(app, b.token);
    const exclusive = await asA.post("/v1/claims", {
      sessionId: a.id,
      patterns: ["src/billing/**", "src/billing/invoice.ts"],
      reason: "invoices",
      ttlSeconds: 600,
    });
    t.equal(exclusive.status, 201);
    const shared = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/**"], mode: "shared", onConflict: "warn" });
    t.equal(shared.status, 201);

    t.test("when active claims cover the path, then each is listed once with holder, mode, reason, since and expiry", async (t) => {
      const res = await asB.get(owners("src/billing/invoice.ts"));
      t.equal(res.status, 200, "a session token may read");
      t.same(res.body.claims, [
        {
          claimId: exclusive.body.id,
          holder: { sessionId: a.id, userId: alice.id, agent: { id: exclusive.body.holder.agent.id, name: "alice-claude" } },
          holderName: alice.name,
          mode: "exclusive",
          reason: "invoices",
          pattern: res.body.claims[0].pattern,
          since: exclusive.body.grantedAt,
          expiresAt: exclusive.body.expiresAt,
        },
        {
          claimId: shared.body.id,
          holder: { sessionId: b.id, userId: bob.id, agent: { id: shared.body.holder.agent.id, name: "bob-codex" } },
          holderName: bob.name,
          mode: "shared",
          reason: null,
          pattern: "src/**",
          since: shared.body.grantedAt,
          expiresAt: shared.body.expiresAt,
        },
      ]);
      t.ok(["src/billing/**", "src/billing/invoice.ts"].includes(res.body.claims[0].pattern));
      t.same(
        (await member.api.get(owners("src/other.ts"))).body.claims.map((c: any) => c.claimId),
        [shared.body.id],
      );
      t.same((await member.api.get(owners("README.md"))).body.claims, []);
    });

    t.test("when a directory is asked, then every live claim on something inside it is listed once, with a path they share", async (t) => {
      const billing = await member.api.get(owners("src/billing/"));
      t.equal(billing.status, 200);
      t.equal(billing.body.directory, true);
      t.same(billing.body.claims.map((c: any) => c.claimId).sort(), [exclusive.body.id, shared.body.id].sort());
      for (const c of billing.body.claims) t.ok(c.example.startsWith("src/billing/"), `${c.pattern} shares ${c.example}`);
      const src = await member.api.get(owners("src/"));
      t.same(src.body.claims.map((c: any) => c.claimId).sort(), [exclusive.body.id, shared.body.id].sort(), "claims deeper inside count");
      t.same((await member.api.get(owners("lib/"))).body.claims, [], "nothing claimed inside lib");
      t.notOk("example" in (await member.api.get(owners("src/billing/invoice.ts"))).body.claims[0], "a file needs no example");
    });

    t.test("when a claim is released, then it is no longer listed", async (t) => {
      t.equal((await asA.delete(`/v1/claims/${exclusive.body.id}`)).status, 200);
      const res = await member.api.get(owners("src/billing/invoice.ts"));
      t.same(
        res.body.claims.map((c: any) => c.claimId),
        [shared.body.id],
      );
    });

    t.test("when the holder's session ends, then its claims leave the answer within the freshness bound", async (t) => {
      t.equal((await asB.delete(`/v1/sessions/${b.id}`)).status, 200);
      // Session ends release claims without patching this process's index: the next check sees it.
      const deadline = Date.now() + 2000;
      let claims: unknown[] = [shared.body.id];
      while (claims.length > 0 && Date.now() < deadline) {
        claims = (await member.api.get(owners("src/other.ts"))).body.claims;
        if (claims.length > 0) await sleep(50);
      }
      t.same(claims, []);
    });
  });

  t.test("errors", async (t) => {
    const missing = await member.api.get(`/v1/repos/${enc}/owners`);
    t.equal(missing.status, 400, "missing path");
    t.equal(missing.body.errors[0].field, "query.path");
    // "src/" names a directory; "src//" and "../" are no directory names.
    for (const path of ["", "/etc/passwd", "a//b", "a/../b", "src//", "../", "a\\b"]) {
      const res = await member.api.get(owners(path));
      t.equal(res.status, 422, JSON.stringify(path));
      t.equal(res.body.code, "patterns.invalid_path");
      t.same(
        res.body.errors.map((e: any) => e.field),
        ["path"],
      );
    }
    const badRepo = await member.api.get(`/v1/repos/${encodeURIComponent("not a repo")}/owners?path=a.ts`);
    t.equal(badRepo.status, 422);
    t.equal(badRepo.body.code, "repos.invalid");
    t.equal(badRepo.body.errors[0].field, "repo");
    t.equal(
      (await admin.put(`/v1/repos/${encodeURIComponent("nope")}/codeowners`, { content: "* @a" })).status,
      422,
      "invalid repo on upload",
    );
    t.equal((await admin.put(`/v1/repos/${enc}/codeowners`, {})).status, 400, "no content");
    t.equal((await admin.get(`/v1/repos/${enc}/owners?path=a.ts&extra=1`)).status, 400, "unknown query field");
  });

  t.test("security", async (t) => {
    const anonymous = client(app);
    t.equal((await anonymous.get(owners("a.ts"))).status, 401, "no token: owners");
    t.equal((await anonymous.get(`/v1/repos/${enc}/codeowners`)).status, 401, "no token: codeowners");
    t.equal((await anonymous.put(`/v1/repos/${enc}/codeowners`, { content: "* @a" })).status, 401, "no token: upload");
    t.equal((await anonymous.put(`/v1/repos/${enc}/modules/m`, { patterns: ["m/"] })).status, 401, "no token: module");

    const forbidden = async (res: { status: number; body: any }, code: string, what: string) => {
      t.equal(res.status, 403, what);
      t.equal(res.body.code, code, what);
    };
    await forbidden(await member.api.put(`/v1/repos/${enc}/codeowners`, { content: "* @me" }), "auth.forbidden", "a member cannot upload");
    await forbidden(
      await member.api.put(`/v1/repos/${enc}/modules/m`, { patterns: ["m/"] }),
      "auth.forbidden",
      "a member cannot define a module",
    );
    await forbidden(await member.api.delete(`/v1/repos/${enc}/modules/src`), "auth.forbidden", "a member cannot delete a module");
    const leadSession = await startSession(lead.api);
    const asLeadSession = client(app, leadSession.token);
    await forbidden(
      await asLeadSession.put(`/v1/repos/${enc}/codeowners`, { content: "* @me" }),
      "auth.session_token_not_allowed",
      "a session token cannot upload",
    );
    await forbidden(
      await asLeadSession.put(`/v1/repos/${enc}/modules/m`, { patterns: ["m/"] }),
      "auth.session_token_not_allowed",
      "a session token cannot define a module",
    );
    t.equal((await asLeadSession.get(owners("a.ts"))).status, 200, "but it may read");

    const ours = await admin.get(`/v1/repos/${enc}/codeowners`);
    const org = await createOrg(app, rootToken);
    const theirs = await org.api.get(`/v1/repos/${enc}/codeowners`);
    t.equal(theirs.status, 404, "another organisation does not see our CODEOWNERS");
    const theirDirectory = await org.api.get(owners("src/"));
    t.same(theirDirectory.body.claims, [], "nor, for a directory, our claims inside it");
    t.equal(theirDirectory.body.codeowners, null);
    const theirOwners = await org.api.get(owners("src/billing/invoice.ts"));
    t.same(
      theirOwners.body,
      { repo, path: "src/billing/invoice.ts", directory: false, codeowners: null, modules: [], claims: [], contracts: [] },
      "nor our modules and claims",
    );
    t.same((await org.api.get(`/v1/repos/${enc}/modules`)).body.items, []);
    const del = await org.api.delete(`/v1/repos/${enc}/modules/src`);
    t.equal(del.status, 404, "nor can it delete our module");
    t.equal(del.body.code, "ownership.module_not_found");
    t.equal(
      (await org.api.put(`/v1/repos/${enc}/codeowners`, { content: "* @intruder" })).status,
      200,
      "its own upload for the same repo key…",
    );
    t.same((await admin.get(`/v1/repos/${enc}/codeowners`)).body, ours.body, "…leaves ours untouched");
    t.same((await org.api.get(owners("a.ts"))).body.codeowners.owners, ["@intruder"]);
    t.same(
      (await admin.get(`/v1/repos/${enc}/modules`)).body.items.map((m: any) => m.name),
      ["auth", "src"],
    );
  });
});

t.test("when a directory's owners need more pattern work than the budget, then 422 patterns.too_complex naming the limit", async (t) => {
  const { app, rootToken } = await startTestApp(t, { PATTERN_WORK_BUDGET: "10000" });
  const member = await createUser(app, rootToken, "member");
  const s = await startSession(member.api, { agent: { name: "wild", kind: "claude-code" } });
  // Wildcard-heavy claims, each cheap to grant in an empty repo, together too much to search
  // for paths inside a directory within 10,000 steps.
  const patterns = Array.from({ length: 64 }, (_, i) => `d/**/*a${i}*b*c*d*e*f*g*h*/**/x*y*z*`);
  t.equal((await client(app, s.token).post("/v1/claims", { patterns })).status, 201);
  const res = await member.api.get(owners("d/"));
  t.equal(res.status, 422);
  t.match(res.body, { code: "patterns.too_complex", limit: "PATTERN_WORK_BUDGET", budget: 10_000 });
  t.match(res.body.detail, /This directory's owners needs more than 10000 steps/);
  const file = await member.api.get(owners("d/a.ts"));
  t.equal(file.status, 200, "a single path's owners stay within the budget");
});
