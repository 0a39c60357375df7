/**
 * The dashboard end to end: a real Brigade server (real PostgreSQL and NATS in CI) on a
 * loopback port, Debian's Chromium driven by playwright-core, one browser launch. Screenshots
 * of every page go to test-output/dashboard/ (gitignored).
 */
import { join } from "node:path";
import type { WebSocketRoute } from "playwright-core";
import t from "tap";
import { client, createUser, startSession, startTestApp } from "../helpers/app.js";
import { chromiumTest, ensureDashboardBuilt, openBrowser, repoRoot } from "./browser.js";

const SHOTS = join(repoRoot, "test-output", "dashboard");
const REPO = "github.com/acme/api";
const WAIT = { timeout: 20_000 };

// One parent test: the file's root would end itself between subtests while the page works.
chromiumTest(t, "the dashboard in Chromium", (t) => run(t));

const openapiV1 = {
  openapi: "3.0.3",
  info: { title: "Orders", version: "1.0.0" },
  paths: {
    "/orders": { get: { responses: { "200": { description: "the orders" } } } },
    "/orders/{orderId}": {
      parameters: [{ name: "orderId", in: "path", required: true, schema: { type: "string" } }],
      get: { responses: { "200": { description: "one order" } } },
      delete: { responses: { "204": { description: "cancelled" } } },
    },
  },
};
const openapiV2 = structuredClone(openapiV1) as typeof openapiV1 & { paths: Record<string, Record<string, unknown>> };
delete (openapiV2.paths["/orders/{orderId}"] as Record<string, unknown>).delete;

type Tap = Parameters<Extract<Parameters<typeof t.test>[0], (t: never) => unknown>>[0];

async function run(t: Tap) {
  const build = ensureDashboardBuilt();
  if (build.built) t.comment(`built the dashboard in ${build.ms.toFixed(0)} ms`);

  const { app, rootToken } = await startTestApp(t, { STREAM_PING_INTERVAL_MS: "5000" });
  const base = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("[::1]", "127.0.0.1");
  const root = client(app, rootToken);

  const lead = await createUser(app, rootToken, "lead", "lena");
  const alice = await createUser(app, rootToken, "member", "alice");
  const bob = await createUser(app, rootToken, "member", "bob");
  const payments = await root.post("/v1/teams", { name: "payments" });
  const search = await root.post("/v1/teams", { name: "search" });
  await root.put(`/v1/teams/${payments.body.id}/members/${alice.id}`);
  await root.put(`/v1/teams/${search.body.id}/members/${bob.id}`);

  const { open, signIn, shot, closingChecks } = await openBrowser(t, { base, shots: SHOTS, timeoutMs: WAIT.timeout });

  // The lead's page goes through a WebSocket proxy the test can cut, to lose the stream on purpose.
  const leadTab = await open("lead");
  const page = leadTab.page;
  let streamBlocked = false;
  const streamRoutes: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/v1\/stream/, (ws) => {
    if (streamBlocked) {
      ws.close({ code: 1011, reason: "test: network down" });
      return;
    }
    streamRoutes.push(ws);
    ws.connectToServer();
  });

  await t.test("when a lead signs in with a valid token, then the Now page shows the organisation live", async (t) => {
    await signIn(page, lead.token);
    await page.getByRole("heading", { name: "Now", level: 1 }).waitFor();
    await page.locator('[data-stream="live"]').waitFor();
    t.ok(await page.getByText("lead", { exact: true }).isVisible(), "the role is shown");
    t.equal(
      await page.evaluate(() => sessionStorage.getItem("brigade.token")),
      lead.token,
      "the token is kept in this tab's sessionStorage",
    );
    t.equal(await page.evaluate(() => localStorage.length), 0, "and nowhere else");
    await page.getByText("No live sessions right now.").waitFor();
  });

  let aliceSession: Awaited<ReturnType<typeof startSession>>;
  await t.test("when a session starts through the API, then it appears live, its task escaped", async (t) => {
    aliceSession = await startSession(alice.api, {
      agent: { name: "claude-1", kind: "claude-code" },
      repo: "git@github.com:Acme/api.git",
      branch: "feat/login",
      task: `<img src=x onerror="window.__xss=1"> Add login`,
    });
    const row = page.locator(`tr[data-session="${aliceSession.id}"]`);
    await row.waitFor();
    t.match(await row.innerText(), /feat\/login/);
    t.match(await row.innerText(), /<img src=x onerror="window.__xss=1"> Add login/, "the task is shown as text");
    t.equal(await page.locator("main img").count(), 0, "no element was made from it");
    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    const team = page.locator('details[data-team="payments"]');
    t.match(await team.innerText(), /alice/, "under the developer's team");
    await page.locator(".count", { hasText: "Active sessions" }).getByText("1", { exact: true }).waitFor();
    await shot(page, "now");
  });

  let aliceClaimId = "";
  let bobSession: Awaited<ReturnType<typeof startSession>>;
  await t.test("when a claim overlaps another session's, then the conflict appears live with its witness path", async (t) => {
    const granted = await client(app, aliceSession.token).post("/v1/claims", {
      sessionId: aliceSession.id,
      patterns: ["src/auth/**"],
      reason: "login rework",
    });
    t.equal(granted.status, 201);
    aliceClaimId = granted.body.id;
    await page.getByRole("link", { name: "Conflicts" }).click();
    await page.getByText("No open conflicts.").waitFor();
    bobSession = await startSession(bob.api, { agent: { name: "codex-1", kind: "codex" }, repo: REPO, task: "Fix login redirect" });
    const warned = await client(app, bobSession.token).post("/v1/claims", {
      sessionId: bobSession.id,
      patterns: ["src/auth/login.ts"],
      onConflict: "warn",
    });
    t.equal(warned.status, 201);
    t.equal(warned.body.conflicts.length, 1);
    const row = page.locator("tr[data-conflict]").first();
    await row.waitFor();
    const text = await row.innerText();
    t.match(text, /src\/auth\/login\.ts/, "the witness path");
    t.match(text, /alice\/claude-1/);
    t.match(text, /bob\/codex-1/);
    t.match(text, /open/);
    await shot(page, "conflicts");
  });

  const aliceTab = await open("alice");
  await t.test("when a lead breaks a claim on the claims map, then the holder's alert is visible", async (t) => {
    await signIn(aliceTab.page, alice.token);
    await aliceTab.page.locator('[data-stream="live"]').waitFor();
    t.equal(
      await aliceTab.page.getByText("Active claims").locator("..").getByText("leads and admins").count(),
      1,
      "a member is told which figures need a lead",
    );

    const codeowners = await root.put(`/v1/repos/${encodeURIComponent(REPO)}/codeowners`, {
      content: "* @acme/platform\n/src/auth/ @acme/identity\n",
    });
    t.equal(codeowners.status, 200);
    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}`);
    const src = page.locator('[role="treeitem"][data-path="src"]');
    await src.waitFor();
    // The CODEOWNERS column fills in once the tree has been drawn.
    await page.locator('[role="treeitem"][data-path="src/auth"] .tree-owners').waitFor();
    t.match(
      await page.locator('[role="treeitem"][data-path="src/auth"]').innerText(),
      /@acme\/identity/,
      "CODEOWNERS owners beside the area",
    );
    t.match(await src.getAttribute("class"), /has-conflict/, "the conflict is highlighted on the way to its witness");
    await page.locator('[role="treeitem"][data-path="src/auth"]').click();
    const card = page.locator(`li[data-claim="${aliceClaimId}"]`);
    await card.waitFor();
    t.match(await card.innerText(), /alice \/ claude-1/);
    t.match(await card.innerText(), /src\/auth\/login\.ts/, "the witness path of its conflict");
    t.match(
      await page.getByTestId("codeowners").innerText(),
      /@acme\/identity \(line 2 ↗: \/src\/auth\/\)/,
      "and the deciding CODEOWNERS line",
    );
    await shot(page, "claims");

    // Keyboard: the tree is one tab stop; arrows move, Enter selects.
    await page.locator('[role="treeitem"][data-path="src"]').focus();
    await page.keyboard.press("ArrowDown");
    t.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-path")), "src/auth");

    await card.getByRole("button", { name: "Break claim…" }).click();
    const dialog = page.getByRole("dialog", { name: "Break claim" });
    await dialog.getByRole("button", { name: "Break claim" }).click();
    await dialog.getByText("Give a reason").waitFor();
    await dialog.getByLabel("Reason (required)").fill("alice is on holiday; bob takes login over");
    await dialog.getByRole("button", { name: "Break claim" }).click();
    const notice = page.getByTestId("action-notice");
    await notice.getByText(/Claim on src\/auth\/\*\* broken/).waitFor();
    await notice.getByText(/claim\.broken/).waitFor();
    t.match(await notice.innerText(), /delivered to/, "the lead sees the alert the holder received");
    await card.waitFor({ state: "detached" });

    const alerts = aliceTab.page.getByRole("button", { name: /Alerts/ });
    await alerts.click();
    const item = aliceTab.page.locator('li[data-alert-type="claim.broken"]');
    await item.waitFor();
    t.match(await item.innerText(), /alice is on holiday; bob takes login over/, "the holder reads the reason");
    await shot(aliceTab.page, "alerts-holder");
    await item.getByRole("button", { name: "Acknowledge" }).click();
    await item.getByText("Acknowledged").waitFor();
    await aliceTab.page.keyboard.press("Escape");
  });

  await t.test("when a breaking version is published, then the contracts page highlights the breaking change", async (t) => {
    const created = await root.post("/v1/contracts", {
      name: "orders-api",
      kind: "openapi",
      providerTeamId: payments.body.id,
      description: "Orders of the shop",
    });
    t.equal(created.status, 201);
    t.equal((await root.post("/v1/contracts/orders-api/consumers", { kind: "team", teamId: search.body.id })).status, 201);
    t.equal((await root.post("/v1/contracts/orders-api/versions", { label: "1.0.0", content: JSON.stringify(openapiV1) })).status, 201);
    await page.getByRole("link", { name: "Contracts" }).click();
    await page.locator('a[aria-current="true"]', { hasText: "orders-api" }).waitFor();
    await page.getByRole("heading", { name: "Latest version: 1.0.0" }).waitFor();
    const forced = await root.post("/v1/contracts/orders-api/versions", {
      label: "2.0.0",
      content: JSON.stringify(openapiV2),
      force: true,
      reason: "the storefront stopped cancelling orders",
    });
    t.equal(forced.status, 201);
    await page.getByRole("heading", { name: "Latest version: 2.0.0" }).waitFor();
    const breaking = page.locator('tr[data-level="breaking"]');
    await breaking.first().waitFor();
    t.match(await breaking.first().innerText(), /Breaking/);
    t.match(await breaking.first().innerText(), /DELETE/i);
    t.match(await page.getByTestId("forced-version").innerText(), /the storefront stopped cancelling orders/);
    t.match(await page.locator(".contract-detail").innerText(), /team search/, "the consumers");
    await shot(page, "contracts");
  });

  await t.test("when the activity feed is filtered and paged, then older events load through the events API", async (t) => {
    for (let i = 0; i < 60; i++) {
      const claimed = await client(app, bobSession.token).post("/v1/claims", {
        sessionId: bobSession.id,
        patterns: [`docs/notes-${i}.md`],
      });
      await client(app, bobSession.token).delete(`/v1/claims/${claimed.body.id}`);
    }
    await page.getByRole("link", { name: "Activity" }).click();
    const items = page.locator(".feed-item");
    await items.first().waitFor();
    await page.getByRole("button", { name: "Load older" }).waitFor();
    const before = await items.count();
    t.equal(before, 100, "the first page");
    await page.getByRole("button", { name: "Load older" }).click();
    await page.waitForFunction((n) => document.querySelectorAll(".feed-item").length > n, before);
    await page.getByLabel("Type").selectOption("contract.");
    await page.waitForFunction(() => {
      const items = [...document.querySelectorAll(".feed-item")];
      return items.length > 0 && items.every((e) => e.getAttribute("data-event-type")?.startsWith("contract."));
    });
    t.ok((await items.count()) >= 3, "only contract events");
    t.match(page.url(), /type=contract\./, "the filter is in the address");
    await page.getByLabel("Type").selectOption("");
    // The unfiltered feed is in (not the contract list still on screen): its live subscription is up.
    await page.locator('.feed-item:not([data-event-type^="contract."])').first().waitFor();
    const published = await client(app, bobSession.token).post("/v1/claims", {
      sessionId: bobSession.id,
      patterns: ["docs/live.md"],
      reason: "live one",
    });
    t.equal(published.status, 201);
    await page.locator('.feed-item[data-event-type="claim.granted"]', { hasText: "docs/live.md" }).waitFor();
    await shot(page, "activity");
  });

  await t.test("when the trends page opens, then its charts are drawn from the event log", async (t) => {
    await page.getByRole("link", { name: "Trends" }).click();
    await page.getByRole("heading", { name: "Conflicts per day, by team" }).waitFor();
    await page.locator(".chart canvas").nth(2).waitFor();
    t.equal(await page.locator(".chart canvas").count(), 3);
    t.match(await page.locator("figure", { hasText: "Conflicts per day" }).locator("table.table").textContent(), /payments/);
    await shot(page, "trends");
  });

  await t.test("when the WebSocket is lost, then the page says it is offline and catches up once it reconnects", async (t) => {
    await page.getByRole("link", { name: "Now" }).click();
    await page.locator('[data-stream="live"]').waitFor();
    // The page also re-reads the session list every 30 s (heartbeats are not events). Such reads
    // are held while offline, so a row seen before they are let go came through the resumed stream.
    let releaseSessionReads = () => {};
    const sessionReadsHeld = new Promise<void>((resolve) => {
      releaseSessionReads = resolve;
    });
    const sessionList = /\/v1\/sessions\?/;
    await page.route(sessionList, async (route) => {
      await sessionReadsHeld;
      // The finally block's unroute() runs before this handler resumes and lets a held read go on
      // by itself: then this continue() finds it handled already.
      await route.continue().catch(() => {});
    });
    try {
      streamBlocked = true;
      for (const ws of streamRoutes.splice(0)) await ws.close({ code: 4000, reason: "test: connection lost" }).catch(() => {});
      await page.locator('[data-stream="offline"]').waitFor();
      await page.getByTestId("offline-banner").waitFor();
      const missed = await startSession(alice.api, {
        agent: { name: "while-offline" },
        repo: REPO,
        task: "started while the dashboard was offline",
      });
      await shot(page, "offline");
      await page.waitForTimeout(800);
      t.equal(await page.locator(`tr[data-session="${missed.id}"]`).count(), 0, "nothing arrives while offline");
      streamBlocked = false;
      await page.locator('[data-stream="live"]').waitFor();
      await page.locator(`tr[data-session="${missed.id}"]`).waitFor();
      t.equal(await page.getByTestId("offline-banner").count(), 0);
      t.pass("resumed from the last event: the session started meanwhile is there");
    } finally {
      releaseSessionReads();
      await page.unroute(sessionList);
    }
  });

  await t.test("at phone width, then the pages still fit the screen", async (t) => {
    const phone = await open("phone", { width: 390, height: 844 });
    await signIn(phone.page, lead.token);
    await phone.page.locator("tr[data-session]").first().waitFor();
    const fit = await phone.page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest(".table-wrap, .nav"))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`);
      return { overflow: document.documentElement.scrollWidth - width, wide };
    });
    t.ok(fit.overflow <= 1, `no sideways scrolling of the page (${fit.overflow}px; ${fit.wide.join(", ")})`);
    await shot(phone.page, "now-phone");
    await phone.page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=src`);
    await phone.page.locator('[role="treeitem"][data-path="src"]').waitFor();
    await shot(phone.page, "claims-phone");
  });

  await t.test("when a token is wrong, revoked, or revoked while signed in, then the page says so clearly", async (t) => {
    const bad = await open("bad-input", undefined, { errorsExpected: true });
    await signIn(bad.page, "not-a-brigade-token");
    const error = bad.page.getByRole("alert");
    await error.getByText(/That token was not accepted/).waitFor();
    t.equal(await bad.page.evaluate(() => sessionStorage.getItem("brigade.token")), null, "a refused token is not kept");

    const revoked = await root.post("/v1/tokens", { name: "to revoke", userId: bob.id });
    t.equal((await root.delete(`/v1/tokens/${revoked.body.id}`)).status, 200);
    await signIn(bad.page, revoked.body.token);
    await bad.page
      .getByRole("alert")
      .getByText(/has been revoked/)
      .waitFor();
    await shot(bad.page, "signin-error");

    const soon = await root.post("/v1/tokens", { name: "revoked while connected", userId: bob.id });
    await signIn(bad.page, soon.body.token);
    await bad.page.locator('[data-stream="live"]').waitFor();
    await root.delete(`/v1/tokens/${soon.body.id}`);
    await bad.page
      .getByRole("alert")
      .getByText(/stopped being valid/)
      .waitFor();
    t.equal(await bad.page.evaluate(() => sessionStorage.getItem("brigade.token")), null, "signed out");
    t.ok(
      bad.watched.errors.every((e) => /status of 401/.test(e)),
      `only the refused requests themselves are logged: ${JSON.stringify(bad.watched.errors)}`,
    );
  });

  await t.test("when the server fails, then the page shows the error and recovers on retry", async (t) => {
    const failing = await open("server-error", undefined, { errorsExpected: true });
    await signIn(failing.page, lead.token);
    await failing.page.locator('[data-stream="live"]').waitFor();
    let fail = true;
    await failing.page.route(/\/v1\/conflicts\?/, (route) =>
      fail
        ? route.fulfill({
            status: 500,
            contentType: "application/problem+json",
            body: JSON.stringify({ status: 500, code: "internal", title: "Internal Server Error", detail: "The server failed to answer." }),
          })
        : route.continue(),
    );
    await failing.page.getByRole("link", { name: "Conflicts" }).click();
    const error = failing.page.getByRole("alert").filter({ hasText: "Could not load the conflicts" });
    await error.waitFor();
    t.match(await error.innerText(), /The server failed to answer/);
    await shot(failing.page, "server-error");
    fail = false;
    await error.getByRole("button", { name: "Try again" }).click();
    await failing.page.locator("tr[data-conflict], .state-empty").first().waitFor();
    t.ok(
      failing.watched.errors.every((e) => /status of 500/.test(e)),
      `only the failed requests are logged: ${JSON.stringify(failing.watched.errors)}`,
    );
  });

  closingChecks();
}
