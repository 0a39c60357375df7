/**
 * The dashboard's views of health and of things (issue 22), in Chromium against a real server:
 * session health and per-row figures on Now, sorting and filtering, conflicts grouped by cause
 * and by pair, the entity pages and their links to the code host, the phone tab bar, and the
 * compressed assets. Every page is photographed at 1440×900 and 390×844 into
 * test-output/screenshots/ (gitignored), each shot also an accessibility check.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import t from "tap";
import { client, createUser, startSession, startTestApp } from "../helpers/app.js";
import { chromiumTest, ensureDashboardBuilt, openBrowser, repoRoot } from "./browser.js";

const SHOTS = join(repoRoot, "test-output", "screenshots");
const REPO = "github.com/acme/api";
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const ENTITY = new Set(["developer", "team", "agent", "session", "repo", "now", "conflicts", "messages"]);

chromiumTest(t, "the dashboard's views in Chromium", (t) => run(t));

type Tap = Parameters<Extract<Parameters<typeof t.test>[0], (t: never) => unknown>>[0];

async function run(t: Tap) {
  ensureDashboardBuilt();
  const { app, rootToken } = await startTestApp(t, { STREAM_PING_INTERVAL_MS: "5000" });
  const base = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("[::1]", "127.0.0.1");
  const root = client(app, rootToken);

  const lead = await createUser(app, rootToken, "lead", "lena");
  const alice = await createUser(app, rootToken, "member", "alice");
  const bob = await createUser(app, rootToken, "member", "bob");
  const carol = await createUser(app, rootToken, "member", "carol");
  const payments = await root.post("/v1/teams", { name: "payments" });
  const search = await root.post("/v1/teams", { name: "search" });
  await root.put(`/v1/teams/${payments.body.id}/members/${alice.id}`);
  await root.put(`/v1/teams/${search.body.id}/members/${bob.id}`);
  await root.put(`/v1/teams/${search.body.id}/members/${carol.id}`);

  // One broad claim of alice's, and four claims granted with a warning against it: one of them
  // by another agent of alice's own.
  const a1 = await startSession(alice.api, {
    agent: { name: "claude-1", kind: "claude-code" },
    repo: REPO,
    branch: "feat/auth",
    task: "Rework auth",
  });
  const a2 = await startSession(alice.api, {
    agent: { name: "claude-2", kind: "claude-code" },
    repo: REPO,
    branch: "fix/x",
    task: "Fix x",
  });
  const b1 = await startSession(bob.api, { agent: { name: "codex-1", kind: "codex" }, repo: REPO, task: "Fix a" });
  const b2 = await startSession(bob.api, { agent: { name: "codex-2", kind: "codex" }, repo: REPO, task: "Fix b" });
  const c1 = await startSession(carol.api, {
    agent: { name: "claude-9", kind: "claude-code" },
    repo: "gitlab.com/acme/web",
    branch: "main",
    task: "Web",
  });
  const claim = async (s: { id: string; token: string }, patterns: string[]) => {
    const res = await client(app, s.token).post("/v1/claims", { sessionId: s.id, patterns, onConflict: "warn" });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return res.body;
  };
  // Each repository shown has a CODEOWNERS file: the repository page reads it.
  for (const repo of [REPO, "gitlab.com/acme/web"])
    await root.put(`/v1/repos/${encodeURIComponent(repo)}/codeowners`, { content: "* @acme/platform\n/src/auth/ @acme/identity\n" });
  const broad = await claim(a1, ["src/**"]);
  await claim(a2, ["src/x.ts"]);
  await claim(b1, ["src/a.ts"]);
  await claim(b2, ["src/b.ts"]);
  await claim(b2, ["src/c.ts"]);
  await claim(c1, ["app/**"]);

  const browser = await openBrowser(t, { base, shots: SHOTS });
  const { shot, closingChecks } = browser;
  const open = async (label: string, viewport = DESKTOP) => (await browser.open(label, viewport)).page;
  const signIn = async (page: Page, token: string) => {
    await browser.signIn(page, token);
    await page.locator('[data-stream="live"]').waitFor();
  };

  const encodings: string[] = [];
  const page = await open("lead");
  page.on("response", (r) => {
    if (/\/assets\/.*\.js$/.test(r.url())) encodings.push(r.headers()["content-encoding"] ?? "identity");
  });

  await t.test("when the lead opens Now, then each session shows its health, claims and conflicts", async (t) => {
    await signIn(page, lead.token);
    const row = page.locator(`tr[data-session="${a1.id}"]`);
    await row.waitFor();
    t.equal(await row.getAttribute("data-health"), "live", "a session heard from just now is live");
    await row.locator('td[data-label="Conflicts"] .badge').waitFor();
    t.equal((await row.locator('td[data-label="Claims"]').innerText()).trim(), "1");
    t.equal((await row.locator('td[data-label="Conflicts"]').innerText()).trim(), "4", "the broad claim collides with four");
    t.match(await row.locator(".health").getAttribute("title"), /live: heartbeat within 2 min/, "the thresholds on the state");
    t.match(await page.getByTestId("health-legend").innerText(), /stale/);
    const alicesBlock = page.locator(`[data-developer="${alice.id}"] h3`);
    t.match(await alicesBlock.innerText(), /2 claims/);
    t.match(await alicesBlock.innerText(), /5 open conflicts/, "a developer row adds up its sessions");
    const counts = page.locator(".counts");
    t.match(await counts.locator(".count", { hasText: "Active claims" }).innerText(), /6/);
    t.match(await counts.locator(".count", { hasText: "Open conflicts" }).innerText(), /4/);
    t.equal(encodings.length > 0 && encodings.every((e) => e === "br"), true, `the bundles came compressed (${encodings.join(", ")})`);
  });

  await t.test("when a claim is granted, then the counts move with the rows", async (t) => {
    await claim(b1, ["docs/readme.md"]);
    const cell = page.locator(`tr[data-session="${b1.id}"] td[data-label="Claims"]`);
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-session="${id}"] td[data-label="Claims"]`)?.textContent?.trim() === "2",
      b1.id,
    );
    t.match(await page.locator(".count", { hasText: "Active claims" }).innerText(), /7/, "the figure at the top in the same render");
    t.equal((await cell.innerText()).trim(), "2");
  });

  await t.test("when a conflict opens and resolves, then the open-conflict count moves with the rows, never apart", async (t) => {
    // Every state of the page the browser paints is recorded: bob's codex-1 row and the figure
    // at the top must agree in each (1 ↔ 4, 2 ↔ 5), from the first frame to the last.
    // (A script of its own: functions named inside an evaluated callback need tsx's helpers.)
    await page.evaluate(`(() => {
      const seen = (window.__pairs = []);
      const read = () => {
        const row = document.querySelector('tr[data-session="${b1.id}"] td[data-label="Conflicts"]')?.textContent?.trim();
        const top = [...document.querySelectorAll(".count")].find((c) => c.textContent.includes("Open conflicts"))?.querySelector("dd");
        const pair = row + "/" + top?.textContent?.trim();
        if (seen[seen.length - 1] !== pair) seen.push(pair);
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    const extra = await claim(b1, ["src/y.ts"]);
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-session="${id}"] td[data-label="Conflicts"]`)?.textContent?.trim() === "2",
      b1.id,
    );
    t.equal((await client(app, b1.token).delete(`/v1/claims/${extra.id}`)).status, 200);
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-session="${id}"] td[data-label="Conflicts"]`)?.textContent?.trim() === "1",
      b1.id,
    );
    const pairs = await page.evaluate(() => (window as unknown as { __pairs: string[] }).__pairs);
    t.same(pairs, ["1/4", "2/5", "1/4"], "the row and the count changed together, both ways");
  });

  await t.test("when Now is sorted and filtered, then the address keeps the view", async (t) => {
    await page.getByLabel("Sort by").selectOption("conflicts");
    await page.waitForURL(/sort=conflicts/);
    const firstDev = await page.locator("details[data-team='search'] [data-developer]").first().getAttribute("data-developer");
    t.equal(firstDev, bob.id, "bob (3 conflicts) before carol (none)");
    await page.getByLabel("only with open conflicts").check();
    await page.waitForURL(/conflicts=1/);
    t.equal(await page.locator(`tr[data-session="${c1.id}"]`).count(), 0, "carol's quiet session is filtered out");
    await page.getByLabel("State").selectOption("stale");
    await page.getByText("No session matches the filter.").waitFor();
    await page.getByLabel("State").selectOption("");
    await page.getByLabel("only with open conflicts").uncheck();
    await shot(page, "now-desktop");
  });

  await t.test("when conflicts are grouped by cause, then one claim against many is one group", async (t) => {
    await page.goto(`${base}/#/conflicts`);
    await page.locator("tr[data-conflict]").first().waitFor();
    t.equal(await page.locator("tr[data-conflict]").count(), 4);
    t.equal(await page.locator("tr[data-conflict] .badge-same").count(), 1, "the conflict between two agents of alice is marked");
    await page.getByLabel("Group").selectOption("cause");
    const group = page.locator(`tbody[data-group="claim:${broad.id}"]`);
    await group.waitFor();
    t.equal(await group.getAttribute("data-size"), "4");
    t.match(await group.locator(".group-head").innerText(), /One claim against 4: src\/\*\*/);
    t.equal(await group.locator("tr[data-conflict]").count(), 0, "a big group starts folded");
    await group.getByRole("button", { name: "Show 4" }).click();
    t.equal(await group.locator("tr[data-conflict]").count(), 4);
    await page.getByLabel("Group").selectOption("pair");
    await page.locator("tbody[data-group]").nth(2).waitFor();
    t.equal(await page.locator("tbody[data-group]").count(), 3, "three pairs of sessions");
    t.equal(await page.locator("tbody[data-group]").first().getAttribute("data-size"), "2", "bob's codex-2 meets alice's claim twice");
    await page.getByLabel("Person").selectOption(bob.id);
    await page.waitForURL(/user=/);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-conflict]").length === 3);
    await page.getByLabel("Team").selectOption(payments.body.id);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-conflict]").length === 3);
    await page.getByLabel("Person").selectOption("");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-conflict]").length === 4);
    const witness = page.locator("tr[data-conflict] .repo-link a.external").first();
    t.match(await witness.getAttribute("href"), /^https:\/\/github\.com\/acme\/api(\/blob\/HEAD\/src\/.+\.ts)?$/, "links to the code host");
    await page.goto(`${base}/#/conflicts?group=cause&repo=${encodeURIComponent(REPO)}`);
    await page.locator("tbody[data-group]").first().waitFor();
    await shot(page, "conflicts-desktop");
  });

  await t.test("when a lead leaves out same-developer conflicts, then the lists and counts are of the others", async (t) => {
    await page.goto(`${base}/#/conflicts`);
    await page.locator("tr[data-conflict]").nth(3).waitFor();
    const marked = page.locator("tr[data-same-developer]");
    t.equal(await marked.count(), 1, "alice's two agents' conflict");
    t.match(await marked.locator('td[data-label="Parties"]').innerText(), /same developer/, "marked in words");
    await page.getByLabel("Same developer").selectOption("hide");
    await page.waitForURL(/same=hide/);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-conflict]").length === 3);
    t.equal(await marked.count(), 0);
    await page.waitForFunction(() => /Open\s*3/.test(document.querySelector('.segment[aria-current="page"]')?.textContent ?? ""));
    t.pass("the status count is of what is shown");
    await page.getByLabel("Same developer").selectOption("only");
    await page.waitForURL(/same=only/);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-conflict]").length === 1);
    t.equal(await marked.count(), 1);
    await shot(page, "conflicts-same-developer");
    await page.getByLabel("Same developer").selectOption("");

    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=src`);
    const card = page.locator(`.claims-detail li[data-claim="${broad.id}"]`);
    await card.locator(".witness-conflict").nth(3).waitFor();
    t.equal(await card.locator(".witness-conflict [data-same-developer]").count(), 1, "the claims map marks it too");
    await page.getByLabel("leave out same-developer conflicts").check();
    await page.waitForURL(/same=hide/);
    await page.waitForFunction(
      (id) => document.querySelectorAll(`.claims-detail li[data-claim="${id}"] .witness-conflict`).length === 3,
      broad.id,
    );
    t.equal(await card.locator("[data-same-developer]").count(), 0, "and can leave it out");
    await page.getByLabel("leave out same-developer conflicts").uncheck();
  });

  await t.test("when a name is clicked, then its page shows what it holds, shareably", async (t) => {
    await page.goto(`${base}/#/now`);
    await page.locator(`[data-developer="${bob.id}"] h3 a`).click();
    await page.waitForURL(/#\/developer\?id=/);
    await page.getByRole("heading", { name: "bob", level: 1 }).waitFor();
    await page.locator('[data-section="sessions"] li[data-session]').nth(1).waitFor();
    t.equal(await page.locator('[data-section="claims"] li[data-claim]').count(), 4, "bob's claims");
    t.equal(await page.locator('[data-section="conflicts"] li[data-conflict]').count(), 3);
    t.match(await page.locator(".entity-facts").innerText(), /search/, "his team");

    await page.locator(`[data-section="sessions"] li[data-session="${b2.id}"] a`).first().click();
    await page.waitForURL(/#\/session\?id=/);
    await page.getByRole("heading", { name: "bob/codex-2", level: 1 }).waitFor();
    await page.locator('[data-section="claims"] li[data-claim]').nth(1).waitFor();
    t.match(await page.locator(".entity-facts").innerText(), /live/);

    await page.goto(`${base}/#/session?id=${a1.id}`);
    await page.getByRole("heading", { name: "alice/claude-1", level: 1 }).waitFor();
    const branch = page.getByRole("link", { name: "Open branch feat/auth on the code host" });
    t.equal(await branch.getAttribute("href"), "https://github.com/acme/api/tree/feat%2Fauth");
    t.equal(await branch.getAttribute("rel"), "noopener noreferrer");

    await page.goto(`${base}/#/repo?key=${encodeURIComponent("gitlab.com/acme/web")}`);
    await page.getByRole("heading", { name: "gitlab.com/acme/web", level: 1 }).waitFor();
    t.equal(await page.getByRole("link", { name: "pull requests" }).getAttribute("href"), "https://gitlab.com/acme/web/-/merge_requests");
    await page.locator('[data-section="claims"] li[data-claim]').first().waitFor();

    await page.goto(`${base}/#/team?id=${search.body.id}`);
    await page.getByRole("heading", { name: "search", level: 1 }).waitFor();
    await page.locator('[data-section="sessions"] li[data-session]').nth(2).waitFor();
    t.equal(await page.locator('[data-section="conflicts"] li[data-conflict]').count(), 3);

    await page.goto(`${base}/#/agent?id=${a2.session.agent.id}&user=${alice.id}`);
    await page.getByRole("heading", { name: "alice/claude-2", level: 1 }).waitFor();
    await page.locator('[data-section="conflicts"] li[data-conflict] .badge-same').waitFor();
  });

  await t.test("when a breaking change is proposed, then the proposal lists which changes break", async (t) => {
    const doc = (paths: Record<string, unknown>) => JSON.stringify({ openapi: "3.0.3", info: { title: "Orders", version: "1" }, paths });
    const get = { get: { responses: { "200": { description: "ok" } } } };
    t.equal(
      (
        await root.post("/v1/contracts", {
          name: "orders-api",
          kind: "openapi",
          providerTeamId: payments.body.id,
          source: { repo: REPO, patterns: ["api/orders.yaml", "api/v2/**"] },
        })
      ).status,
      201,
    );
    t.equal((await root.post("/v1/contracts/orders-api/consumers", { kind: "team", teamId: search.body.id })).status, 201);
    t.equal(
      (await root.post("/v1/contracts/orders-api/versions", { label: "1.0.0", content: doc({ "/orders": get, "/refunds": get }) })).status,
      201,
    );
    const proposed = await root.post("/v1/contracts/orders-api/proposals", {
      label: "2.0.0",
      content: doc({ "/orders": get }),
      description: "refunds move to their own service",
    });
    t.equal(proposed.status, 201);
    await page.goto(`${base}/#/contracts?name=orders-api`);
    const changes = page.getByTestId("proposal-changes");
    await changes.waitFor();
    t.match(await changes.locator('tr[data-level="breaking"]').first().innerText(), /refunds/, "the breaking change itself, by location");
    t.match(await changes.locator("caption").innerText(), /from 1\.0\.0 to 2\.0\.0/);
    const source = page.getByTestId("contract-source");
    t.equal(
      await source.getByRole("link", { name: "Open api/orders.yaml on the code host" }).getAttribute("href"),
      "https://github.com/acme/api/blob/HEAD/api/orders.yaml",
      "the contract's source file links out",
    );
    t.equal(
      await source.getByRole("link", { name: "Open api/v2 on the code host" }).getAttribute("href"),
      "https://github.com/acme/api/tree/HEAD/api/v2",
      "a folder pattern links to its folder",
    );

    const diff = page.getByTestId("proposal-diff");
    await diff.locator("summary").click();
    const table = diff.locator("table.diff-table");
    await table.waitFor();
    t.match(await table.locator("thead").innerText(), /1\.0\.0[\s\S]*2\.0\.0/, "the base version on the left, the proposal on the right");
    const removed = table.locator('tr[data-kind="removed"]');
    t.ok((await removed.count()) > 0, "lines only in the base are marked");
    t.equal(await removed.filter({ hasText: "/refunds" }).count(), 1, "the removed path among them");
    t.equal(await table.locator('tr[data-kind="added"]').count(), 0, "nothing was added");
    t.ok((await table.locator('tr[data-kind="same"]').count()) > 0, "unchanged lines face each other");
    await shot(page, "proposal-diff");
  });

  await t.test("when paths are shown in Activity and the claims map, then they link to the code host", async (t) => {
    await page.goto(`${base}/#/activity?type=conflict.opened`);
    const opened = page.locator('.feed-item[data-event-type="conflict.opened"]').first();
    await opened.waitFor();
    t.match(
      await opened.locator("a.external").last().getAttribute("href"),
      /^https:\/\/github\.com\/acme\/api\/blob\/HEAD\/src\/.+\.ts$/,
      "a conflict's witness path",
    );
    t.equal(await opened.getByRole("link", { name: REPO, exact: true }).getAttribute("href"), `#/repo?key=${encodeURIComponent(REPO)}`);

    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=src`);
    const detail = page.locator(".claims-detail");
    await detail.locator("li[data-claim]").first().waitFor();
    t.equal(
      await detail.getByRole("link", { name: "Open src on the code host" }).first().getAttribute("href"),
      "https://github.com/acme/api/tree/HEAD/src",
    );
    t.equal(
      await page
        .getByTestId("codeowners")
        .getByRole("link", { name: /line 1/ })
        .getAttribute("href"),
      "https://github.com/acme/api/blob/HEAD/.github/CODEOWNERS#L1",
      "the CODEOWNERS rule that matched, by its line",
    );
    t.match(
      await detail.locator(".witness a.external").first().getAttribute("href"),
      /^https:\/\/github\.com\/acme\/api\/blob\/HEAD\/src\/.+\.ts$/,
      "witness paths of the claims here",
    );
    await page.goto(`${base}/#/repo?key=${encodeURIComponent(REPO)}`);
    const rule = page.locator('[data-section="codeowners"] li').nth(1).locator("a").first();
    t.equal(await rule.getAttribute("href"), "https://github.com/acme/api/blob/HEAD/.github/CODEOWNERS#L2", "each line of the file");
  });

  await t.test("when an admin sets a repository's link template, then its links come from it on every page, live", async (t) => {
    const web = encodeURIComponent("gitlab.com/acme/web");
    await page.goto(`${base}/#/repo?key=${web}`);
    await page.getByRole("heading", { name: "gitlab.com/acme/web", level: 1 }).waitFor();
    t.equal(await page.getByTestId("link-template").locator("form").count(), 0, "a lead sees the setting, not the form");

    // Chromium logs the refused template's 400 as a console error: this tab's errors are checked here.
    const adminTab = await browser.open("admin", DESKTOP, { errorsExpected: true });
    const admin = adminTab.page;
    await signIn(admin, rootToken);
    await admin.goto(`${base}/#/repo?key=${web}`);
    const form = admin.getByTestId("link-template");
    await form.getByLabel("URL template").fill("ftp://git.example.com/{repo}/{file}");
    await form.getByRole("button", { name: "Save" }).click();
    t.match(await form.getByRole("alert").innerText(), /http/, "the server's reason, shown");
    const template = "https://git.example.com/{repo}/blob/{ref}/{path}#L{line}";
    await form.getByLabel("URL template").fill(template);
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByText("Saved.").waitFor();
    await shot(admin, "repo-link-template");

    // The lead's page follows the event.
    const host = page.locator(".entity-facts a", { hasText: "git.example.com" });
    await host.waitFor();
    t.equal(await host.getAttribute("href"), "https://git.example.com/acme/web");
    t.equal(await page.getByRole("link", { name: "pull requests" }).count(), 0, "where pull requests are is not known");
    t.equal(
      await page.getByRole("link", { name: "Open /src/auth/ on the code host" }).getAttribute("href"),
      "https://git.example.com/acme/web/blob/HEAD/src/auth",
      "a CODEOWNERS folder, through the template",
    );
    t.match(await page.getByTestId("link-template").innerText(), /git\.example\.com\/\{repo\}/);
    await page.goto(`${base}/#/session?id=${c1.id}`);
    t.equal(
      await page.getByRole("link", { name: "Open branch main on the code host" }).getAttribute("href"),
      "https://git.example.com/acme/web/blob/main",
      "a branch, through the template",
    );

    await form.getByRole("button", { name: "Remove" }).click();
    await form.getByText(/derived from the key again/).waitFor();
    await page.waitForFunction(
      () =>
        document.querySelector('a[aria-label="Open branch main on the code host"]')?.getAttribute("href") ===
        "https://gitlab.com/acme/web/-/tree/main",
    );
    t.pass("removed, the links are derived again");
    t.same(
      adminTab.watched.errors.filter((e) => !/status of 400/.test(e)),
      [],
      "the admin's tab logged nothing but the refused template's 400",
    );
    t.equal(adminTab.watched.errors.length, 1);
  });

  await t.test("when a session ends holding many claims, then Activity folds the releases into one line", async (t) => {
    const many = await startSession(carol.api, { agent: { name: "bulk" }, repo: "gitlab.com/acme/web", task: "Many claims" });
    for (let i = 0; i < 5; i++) await claim(many, [`docs/page-${i}.md`]);
    t.equal((await client(app, many.token).delete(`/v1/sessions/${many.id}`)).status, 200);
    await page.goto(`${base}/#/activity`);
    const run = page.locator('.feed-run[data-event-type="claim.released"]');
    await run.waitFor();
    t.equal(await run.getAttribute("data-run-size"), "5");
    t.match(await run.innerText(), /and 4 more like it/);
    await run.getByRole("button", { name: "Show all 5" }).click();
    t.equal(await run.locator(".feed-run-items .feed-item").count(), 5, "expanded, every event is there");
    await shot(page, "activity-run");
  });

  await t.test("when a time range is chosen on one page, then Activity, Conflicts and Trends share it", async (t) => {
    const reads: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (/\/v1\/(events|conflicts)\?/.test(r.url())) reads.push(r.url());
    };
    page.on("request", onRequest);
    t.teardown(() => page.off("request", onRequest));
    const bound = (name: string, path: string) =>
      reads
        .filter((u) => u.includes(path))
        .map((u) => new URL(u).searchParams.get(name))
        .filter((v): v is string => v !== null);
    await page.goto(`${base}/#/activity`);
    await page.locator(".feed-item").first().waitFor();
    t.same(bound("after", "/v1/events?"), [], "any time: the feed reads the whole log");
    // The list already shown stays until the new read answers: wait for the read itself.
    const rangedRead = page.waitForRequest((r) => /\/v1\/events\?/.test(r.url()) && new URL(r.url()).searchParams.has("after"));
    await page.getByLabel("Time range").selectOption("7d");
    await page.waitForURL(/range=7d/);
    await rangedRead;
    await page.locator(".feed-item").first().waitFor();
    const weekAgo = Date.now() - 7 * 86_400_000;
    const after = bound("after", "/v1/events?");
    t.ok(after.length > 0 && Math.abs(Date.parse(after[0]!) - weekAgo) < 120_000, `the feed reads from the range's start (${after[0]})`);

    await page.locator(".nav a", { hasText: "Conflicts" }).click();
    await page.locator("tr[data-conflict]").first().waitFor();
    t.equal(await page.getByLabel("Time range").inputValue(), "7d", "Conflicts opens with the range chosen on Activity");
    const since = bound("since", "/v1/conflicts?");
    t.ok(since.length > 0 && Math.abs(Date.parse(since[0]!) - weekAgo) < 120_000, "and lists the conflicts opened in it");
    t.equal(await page.locator("tr[data-conflict]").count(), 4, "this week's conflicts");
    await page.getByLabel("Time range").selectOption("1h");
    await page.waitForURL(/range=1h/);

    await page.locator(".nav a", { hasText: "Trends" }).click();
    await page.getByRole("heading", { name: "Trends", level: 1 }).waitFor();
    t.equal(await page.getByLabel("Time range").inputValue(), "1h");
    const perDay = page.locator("details.data-table").first();
    await perDay.waitFor();
    t.equal(await perDay.locator("tbody tr").count(), 1, "the last hour is today's trends");
    await page.getByLabel("Time range").selectOption("7d");
    await page.waitForFunction(() => document.querySelectorAll("details.data-table")[0]?.querySelectorAll("tbody tr").length === 7);
    await shot(page, "trends-range");
    await page.locator(".nav a", { hasText: "Activity" }).click();
    t.equal(await page.getByLabel("Time range").inputValue(), "7d", "back on Activity, the range chosen on Trends");
    await page.getByLabel("Time range").selectOption("");
  });

  await t.test("when a chart's point is opened, then Activity shows the events behind it, by the address", async (t) => {
    await page.goto(`${base}/#/trends?range=7d`);
    const picker = page.locator(".chart-picker").first();
    await picker.waitFor();
    await page.waitForFunction(() => document.querySelectorAll(".chart-picker canvas").length >= 2);
    await picker.focus();
    await page.keyboard.press("End");
    t.match(await picker.locator(".chart-readout").innerText(), /payments \d+/, "today's figures read out");
    await shot(page, "trends-point-chosen");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/activity\?/);
    const address = new URLSearchParams(page.url().split("?")[1]);
    t.equal(address.get("type"), "conflict.opened");
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const from = Date.parse(address.get("from") ?? "");
    const to = Date.parse(address.get("to") ?? "");
    t.ok(Math.abs(from - midnight.getTime()) < 2 * 3_600_000, `the window starts at today's midnight (${address.get("from")})`);
    t.ok(to - from >= 23 * 3_600_000 && to - from <= 25 * 3_600_000, "and lasts the day");
    await page.getByTestId("activity-window").waitFor();
    await page.locator(".feed-item").first().waitFor();
    const types = await page.locator(".feed > li").evaluateAll((items) => items.map((li) => li.getAttribute("data-event-type")));
    t.ok(types.length >= 4 && types.every((type) => type === "conflict.opened"), `that day's conflicts only (${types.join(", ")})`);
    await shot(page, "activity-window");
    await page.goBack();
    await page.waitForURL(/#\/trends/);

    // A bar, clicked: the busiest repository's claims over the range.
    const bars = page.locator(".chart-picker").nth(1);
    await bars.locator(".u-over").waitFor();
    const box = (await bars.locator(".u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.8);
    await page.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.8);
    await page.waitForURL(/#\/activity\?/);
    const barAddress = new URLSearchParams(page.url().split("?")[1]);
    t.equal(barAddress.get("repo"), REPO);
    t.equal(barAddress.get("type"), "claim.granted");
    t.equal(barAddress.get("to"), null, "over the range, up to now");
    await page.locator(".feed-item").first().waitFor();
    const granted = await page.locator(".feed > li").evaluateAll((items) => items.map((li) => li.getAttribute("data-event-type")));
    t.ok(granted.length > 0 && granted.every((type) => type === "claim.granted"), "the claims granted there");
    await page.getByTestId("activity-window").getByRole("button").click();
    await page.waitForFunction(() => !location.hash.includes("from="));
    t.pass("the window is left for the range");
  });

  await t.test("when a lead sends a directive, then Messages shows its threads and who has acknowledged, live", async (t) => {
    const sent = await lead.api.post("/v1/messages", {
      to: { type: "team", id: search.body.id },
      subject: "Freeze src/auth until the release",
      body: "No merges into src/auth today.\nAck when seen.",
      ackRequired: true,
    });
    t.equal(sent.status, 201, JSON.stringify(sent.body));
    t.equal((await client(app, b1.token).post(`/v1/messages/${sent.body.id}/ack`)).status, 200);
    const asked = await alice.api.post("/v1/messages", {
      to: { type: "user", id: lead.id },
      subject: "Who owns the login redirect?",
      body: "The witness is src/auth/login.ts",
      about: { type: "path", id: REPO, path: "src/auth/login.ts" },
    });
    t.equal(asked.status, 201, JSON.stringify(asked.body));

    await page.goto(`${base}/#/messages`);
    const tally = page.locator(`li[data-message="${sent.body.id}"] [data-testid="directive-tally"]`);
    await tally.waitFor();
    t.equal(await tally.getAttribute("data-acked"), "1", "bob's codex-1 acknowledged");
    t.equal(await tally.getAttribute("data-pending"), "2", "bob's codex-2 and carol's claude-9 have not");
    t.match(await tally.innerText(), /waiting for .*bob\/codex-2/);
    const question = page.locator(`tr[data-thread="${asked.body.threadId}"]`);
    t.match(await question.innerText(), /1 unread/, "an unread thread stands out");
    t.notMatch(
      await page.locator(`tr[data-thread="${sent.body.threadId}"]`).innerText(),
      /unread/,
      "what the lead wrote is not unread to the lead",
    );
    t.equal(
      await question.getByRole("link", { name: "Open src/auth/login.ts on the code host" }).getAttribute("href"),
      "https://github.com/acme/api/blob/HEAD/src/auth/login.ts",
      "what the thread is about links out",
    );

    t.equal((await client(app, b2.token).post(`/v1/messages/${sent.body.id}/ack`)).status, 200);
    await page.waitForFunction(
      (id) => document.querySelector(`li[data-message="${id}"] [data-testid="directive-tally"]`)?.getAttribute("data-acked") === "2",
      sent.body.id,
    );
    t.equal(await tally.getAttribute("data-pending"), "1", "the tally moved with the acknowledgement");

    await question.getByRole("link", { name: "Who owns the login redirect?" }).click();
    await page.waitForURL(/#\/messages\?thread=/);
    await page.getByRole("heading", { name: "Who owns the login redirect?", level: 2 }).waitFor();
    t.match(await page.locator(".thread-body").first().innerText(), /The witness is src\/auth\/login\.ts/);
    await shot(page, "messages-thread");
  });

  await t.test("when a claim or a conflict has threads, then they show beside it, and a lead starts one from the claim", async (t) => {
    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=src`);
    const threads = page.locator(`.claims-detail li[data-claim="${broad.id}"] [data-testid="threads-about"]`).first();
    await threads.getByText("No thread about this claim").waitFor();
    await threads.locator("summary", { hasText: "Start a thread" }).click();
    t.match(await threads.innerText(), /To alice \/ claude-1 \(the holder\)/);
    await threads.getByLabel("Subject").fill("Narrow src/**?");
    await threads.getByLabel("Message").fill("bob needs src/b.ts this afternoon.");
    await threads.getByRole("button", { name: "Send" }).click();
    await threads.locator("li[data-thread]").waitFor();
    const sent = (await lead.api.get(`/v1/messages?box=sent&aboutType=claim&aboutId=${broad.id}`)).body.items[0];
    t.match(sent, { subject: "Narrow src/**?", to: { type: "session", id: a1.id }, about: { type: "claim", id: broad.id } });
    // The holder's agent answers in the thread: the answer shows beside the claim, live.
    t.equal((await client(app, a1.token).post(`/v1/messages/${sent.id}/replies`, { body: "Narrowing to src/auth/** now." })).status, 201);
    await threads.getByText("Narrowing to src/auth/** now.").waitFor();
    t.equal(await threads.locator(`li[data-thread="${sent.threadId}"] .thread-message`).count(), 2);
    t.equal(await threads.getByRole("link", { name: "Narrow src/**?" }).getAttribute("href"), `#/messages?thread=${sent.threadId}`);
    await shot(page, "claim-threads");

    const conflict = (await lead.api.get(`/v1/conflicts?status=open&session=${b1.id}`)).body.items[0];
    const asked = await bob.api.post("/v1/messages", {
      to: { type: "user", id: lead.id },
      subject: "Who goes first?",
      body: "alice's src/** covers my src/a.ts",
      about: { type: "conflict", id: conflict.id },
    });
    t.equal(asked.status, 201, JSON.stringify(asked.body));
    await page.goto(`${base}/#/conflicts`);
    const row = page.locator(`tr[data-conflict="${conflict.id}"]`);
    const open = row.getByRole("button", { name: /^1 message/ });
    await open.waitFor();
    t.equal(await row.getByRole("button", { name: /^Threads/ }).count(), 0, "a conflict with a thread says so on its row");
    await open.click();
    await page.waitForURL(new RegExp(`conflict=${conflict.id}`));
    t.equal(await open.getAttribute("aria-expanded"), "true");
    const detail = page.locator(`#conflict-threads-${conflict.id}`);
    await detail.getByText("alice's src/** covers my src/a.ts").waitFor();
    t.equal(await detail.getByRole("link", { name: "Who goes first?" }).getAttribute("href"), `#/messages?thread=${asked.body.threadId}`);
    await shot(page, "conflict-threads");
  });

  const pages: [string, string][] = [
    ["now", "now"],
    ["activity", "activity"],
    ["claims", `claims?repo=${encodeURIComponent(REPO)}`],
    ["conflicts", "conflicts?group=cause"],
    ["contracts", "contracts"],
    ["messages", "messages"],
    ["trends", "trends"],
    ["developer", `developer?id=${alice.id}`],
    ["team", `team?id=${payments.body.id}`],
    ["agent", `agent?id=${a1.session.agent.id}&user=${alice.id}`],
    ["session", `session?id=${a1.id}`],
    ["repo", `repo?key=${encodeURIComponent(REPO)}`],
  ];

  await t.test("at phone width, then the tab bar shows there is more and the current or focused tab is in sight", async (t) => {
    const phone = await open("phone", PHONE);
    await signIn(phone, lead.token);
    const navState = () =>
      phone.evaluate(() => {
        const nav = document.querySelector(".nav") as HTMLElement;
        const ul = nav.querySelector("ul") as HTMLElement;
        const box = ul.getBoundingClientRect();
        const [current, focused] = [nav.querySelector('a[aria-current="page"]'), document.activeElement?.closest(".nav a") ?? null].map(
          (a) => !!a && a.getBoundingClientRect().left >= box.left - 1 && a.getBoundingClientRect().right <= box.right + 1,
        );
        const [left, right] = ["left", "right"].map((side) => getComputedStyle(nav.querySelector(`.nav-more-${side}`)!).display !== "none");
        return {
          scrollable: ul.scrollWidth > ul.clientWidth,
          snap: getComputedStyle(ul).scrollSnapType,
          left,
          right,
          current,
          focused,
        };
      });
    let nav = await navState();
    t.ok(nav.scrollable, "the tabs scroll sideways");
    t.equal(nav.snap, "none", "no snapping to pull a tab back out of sight");
    t.same([nav.left, nav.right], [false, true], "an arrow on the side where more tabs lie");
    await shot(phone, "tabbar-phone-start");

    await phone.goto(`${base}/#/trends`);
    await phone.getByRole("heading", { name: "Trends", level: 1 }).waitFor();
    await phone.waitForFunction(() => document.querySelector(".nav")?.hasAttribute("data-more-left"));
    nav = await navState();
    t.ok(nav.current, "the current tab is scrolled into sight");
    t.same([nav.left, nav.right], [true, false], "at the end, the arrow points back");

    await phone.getByRole("link", { name: "Now", exact: true }).focus();
    nav = await navState();
    t.ok(nav.focused, "a tab reached by keyboard is scrolled into sight");
    await phone.locator(".nav-more-right").click();
    await phone.waitForFunction(() => document.querySelector(".nav")?.hasAttribute("data-more-left"));
    await shot(phone, "tabbar-phone-scrolled");
  });

  await t.test("then every page is photographed at desktop and phone size", async (t) => {
    const phone = await open("phone-shots", PHONE);
    await signIn(phone, lead.token);
    for (const [view, size] of [
      [page, "desktop"],
      [phone, "phone"],
    ] as const) {
      for (const [name, path] of pages) {
        await view.goto(`${base}/#/${path}`);
        await view.locator("main h1").waitFor();
        await view.locator(".state-loading").waitFor({ state: "detached" });
        if (size === "phone") {
          const overflow = await view.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          t.ok(overflow <= 1, `${name} fits the phone (${overflow}px)`);
        }
        // axe runs on every page at desktop size (its few seconds per page add up on a loaded
        // machine); at phone size on the new pages, whose layout differs most.
        await shot(view, `${name}-${size}`, size === "desktop" || ENTITY.has(name));
      }
    }
  });

  await t.test("when a session falls silent, then it turns idle and then stale", async (t) => {
    // Heard from just now, however long the tests before took.
    t.equal((await client(app, c1.token).post(`/v1/sessions/${c1.id}/heartbeat`, {})).status, 200);
    const clockPage = await open("clock");
    await clockPage.clock.install();
    await signIn(clockPage, lead.token);
    const row = clockPage.locator(`tr[data-session="${c1.id}"]`);
    await row.waitFor();
    t.equal(await row.getAttribute("data-health"), "live");
    await clockPage.clock.fastForward("03:00");
    await clockPage.waitForFunction(
      (id) => document.querySelector(`tr[data-session="${id}"]`)?.getAttribute("data-health") === "idle",
      c1.id,
    );
    await clockPage.clock.fastForward("03:00");
    await clockPage.waitForFunction(
      (id) => document.querySelector(`tr[data-session="${id}"]`)?.getAttribute("data-health") === "stale",
      c1.id,
    );
    t.match(await clockPage.locator(".count", { hasText: "Active sessions" }).innerText(), /stale/, "the count says how many are stale");
    await shot(clockPage, "now-stale");
  });

  closingChecks();
}
