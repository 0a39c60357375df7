import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

const repo = "git.example.com/acme/api";
const enc = encodeURIComponent(repo);
// The same repository spelled as a remote: every spelling is one repository.
const remote = encodeURIComponent("git@git.example.com:Acme/api.git");
const url = (r = enc) => `/v1/repos/${r}/link-template`;
const template = "https://git.example.com/{repo}/blob/{ref}/{path}#L{line}";

t.test("repository link templates", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const admin = client(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");
  const member = await createUser(app, rootToken, "member");

  t.test("when an admin sets a template, then everyone in the organisation reads it, and the change is an event", async (t) => {
    const res = await admin.put(url(remote), { template });
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { repo, template, updatedBy: String });
    t.ok(Date.parse(res.body.updatedAt) > 0);
    const got = await member.api.get(url());
    t.equal(got.status, 200);
    t.same(got.body, res.body, "read by its key as by its remote");
    const list = await member.api.get("/v1/link-templates");
    t.same(list.body.items, [res.body]);
    const s = await startSession(member.api, { repo });
    t.equal((await client(app, s.token).get(url())).status, 200, "an agent's session token reads it too");
    const events = await member.api.get("/v1/events?type=repo.");
    t.match(events.body.items.at(-1), { type: "repo.link_template_set", repo, subject: { type: "repo", id: repo }, payload: { template } });
  });

  t.test("when it is set again, then the new one replaces it", async (t) => {
    const next = "https://{host}/cgit/{repo}/tree/{path}?h={ref}";
    const res = await admin.put(url(), { template: ` ${next} ` });
    t.equal(res.status, 200);
    t.equal(res.body.template, next, "trimmed");
    t.equal((await member.api.get("/v1/link-templates")).body.items.length, 1);
  });

  t.test("when a template is not a usable address, then 400 names the field and says why", async (t) => {
    const cases: [string, RegExp][] = [
      ["ftp://git.example.com/{path}", /http/],
      ["javascript:alert(1)//{path}", /http/],
      ["https://git.example.com/{repo}/{file}", /unknown placeholder \{file\}/],
      ["https://git.example.com/{repo}/{path", /opens or closes no placeholder/],
      ["https://git.example.com/{repo}/blob/{ref}", /\{path\}/],
      ["https://user:secret@git.example.com/{path}", /credentials/],
      ["https://exa mple.com/{path}", /not a valid URL/],
      ["", /./],
      [`https://git.example.com/${"a".repeat(2048)}/{path}`, /./],
    ];
    for (const [bad, reason] of cases) {
      const res = await admin.put(url(), { template: bad });
      t.equal(res.status, 400, bad.slice(0, 60));
      t.equal(String(res.headers["content-type"]).split(";")[0], "application/problem+json");
      t.equal(res.body.errors?.[0]?.field, "template", bad.slice(0, 60));
      t.match(res.body.errors?.[0]?.reason, reason, bad.slice(0, 60));
    }
    const extra = await admin.put(url(), { template, other: 1 });
    t.equal(extra.status, 400, "an unknown field");
    const missing = await admin.put(url(), {});
    t.equal(missing.body.errors?.[0]?.field, "template");
    const badRepo = await admin.put(url(encodeURIComponent("../etc")), { template });
    t.equal(badRepo.status, 422);
    t.equal(badRepo.body.code, "repos.invalid");
    t.match((await member.api.get(url())).body, { template: "https://{host}/cgit/{repo}/tree/{path}?h={ref}" }, "none of that stored");
  });

  t.test("security", async (t) => {
    const anon = client(app);
    t.equal((await anon.put(url(), { template })).status, 401, "no token");
    t.equal((await anon.get(url())).status, 401);
    t.equal((await anon.get("/v1/link-templates")).status, 401);
    t.equal((await anon.delete(url())).status, 401);

    for (const [who, api] of [
      ["a lead", lead.api],
      ["a member", member.api],
    ] as const) {
      const res = await api.put(url(), { template });
      t.equal(res.status, 403, `${who} may not set it`);
      t.equal(res.body.code, "auth.forbidden");
      t.equal((await api.delete(url())).status, 403, `${who} may not remove it`);
    }
    const otherAdmin = await createUser(app, rootToken, "admin");
    const s = await startSession(otherAdmin.api, { repo });
    const bySession = await client(app, s.token).put(url(), { template });
    t.equal(bySession.status, 403, "an admin's session token may not: it acts for one agent");
    t.equal(bySession.body.code, "auth.session_token_not_allowed");

    const org = await createOrg(app, rootToken);
    t.equal((await org.api.get(url())).status, 404, "another organisation does not see ours");
    t.same((await org.api.get("/v1/link-templates")).body.items, []);
    const theirs = await org.api.put(url(), { template: "https://theirs.example/{path}" });
    t.equal(theirs.status, 200, "it sets its own, for its own repository of that name");
    t.match((await member.api.get(url())).body, { template: "https://{host}/cgit/{repo}/tree/{path}?h={ref}" }, "ours unchanged");
    t.equal((await org.api.get(url())).body.template, "https://theirs.example/{path}");
  });

  t.test("when an admin removes it, then links are derived again and a second removal finds none", async (t) => {
    const res = await admin.delete(url());
    t.equal(res.status, 200);
    t.equal(res.body.repo, repo);
    const gone = await member.api.get(url());
    t.equal(gone.status, 404);
    t.equal(gone.body.code, "repos.link_template_not_found");
    t.same((await member.api.get("/v1/link-templates")).body.items, []);
    t.equal((await admin.delete(url())).status, 404);
    const events = await member.api.get("/v1/events?type=repo.link_template_removed");
    t.equal(events.body.items.length, 1, "one removal, one event");
  });
});
