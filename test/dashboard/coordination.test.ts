/**
 * The dashboard's coordination views in Chromium against a real server: who waits for a claim
 * on the claims map and on the waiter's page, live until the queue grants it, and the thread
 * about a claim beside it with a reply typed in its form. Each state is photographed into
 * test-output/screenshots/ (gitignored) and checked with axe-core.
 */
import { join } from "node:path";
import t from "tap";
import { client, createUser, startSession, startTestApp } from "../helpers/app.js";
import { chromiumTest, ensureDashboardBuilt, openBrowser, repoRoot } from "./browser.js";

const SHOTS = join(repoRoot, "test-output", "screenshots");
const REPO = "github.com/acme/queue-map";
const DESKTOP = { width: 1440, height: 900 };

chromiumTest(t, "queues and threads on the dashboard in Chromium", (t) => run(t));

type Tap = Parameters<Extract<Parameters<typeof t.test>[0], (t: never) => unknown>>[0];

async function run(t: Tap) {
  ensureDashboardBuilt();
  const { app, rootToken } = await startTestApp(t, { STREAM_PING_INTERVAL_MS: "5000" });
  const base = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("[::1]", "127.0.0.1");

  const lead = await createUser(app, rootToken, "lead", "lena");
  const alice = await createUser(app, rootToken, "member", "alice");
  const bob = await createUser(app, rootToken, "member", "bob");
  const a1 = await startSession(alice.api, { agent: { name: "claude-1", kind: "claude-code" }, repo: REPO, task: "Rework auth" });
  const b1 = await startSession(bob.api, { agent: { name: "codex-1", kind: "codex" }, repo: REPO, task: "Fix login" });
  const held = await client(app, a1.token).post("/v1/claims", { patterns: ["src/auth/**"], ttlSeconds: 600 });
  t.equal(held.status, 201);
  const queued = await client(app, b1.token).post("/v1/claims", {
    patterns: ["src/auth/login.ts"],
    ttlSeconds: 600,
    onConflict: "queue",
    reason: "login fix",
  });
  t.equal(queued.status, 202);
  const entryId = queued.body.id as string;
  // The holder's agent writes to the lead about its claim.
  const sent = await client(app, a1.token).post("/v1/messages", {
    to: { type: "user", id: lead.id },
    subject: "Keeping src/auth a while",
    body: "The rework needs src/auth until tonight.",
    about: { type: "claim", id: held.body.id },
  });
  t.equal(sent.status, 201);

  const browser = await openBrowser(t, { base, shots: SHOTS });
  const { page } = await browser.open("lead", DESKTOP);
  await browser.signIn(page, lead.token);
  await page.locator('[data-stream="live"]').waitFor();

  await t.test("when a request waits in the queue, then the waiter's page lists it with its position", async (t) => {
    await page.goto(`${base}/#/developer?id=${bob.id}`);
    const entry = page.locator(`[data-section="waiting"] li[data-queue-entry="${entryId}"]`);
    await entry.waitFor();
    const text = await entry.innerText();
    t.match(text, /#1 in line/);
    t.match(text, /src\/auth\/login\.ts/);
    t.match(text, /blocked by alice/);
    t.match(text, /login fix/);
    await browser.shot(page, "coordination-developer-waiting");
  });

  const card = page.locator(`.claims-detail li[data-claim="${held.body.id}"]`);
  await t.test("when the claims map shows the claim, then who waits for it shows on it", async (t) => {
    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=src/auth`);
    const waiter = card.locator(`[data-testid="claim-waiters"] li[data-queue-entry="${entryId}"]`);
    await waiter.waitFor();
    t.match(await waiter.innerText(), /#1 in line.*src\/auth\/login\.ts/s);
    t.match(await waiter.innerText(), /since/);
    await browser.shot(page, "coordination-claim-waiters");
  });

  await t.test("when a thread is about the claim, then it shows beside it and a reply typed in its form appears", async (t) => {
    const thread = card.locator(`[data-testid="threads-about"] li[data-thread="${sent.body.threadId}"]`);
    await thread.waitFor();
    t.match(await thread.innerText(), /Keeping src\/auth a while/);
    t.match(await thread.innerText(), /The rework needs src\/auth until tonight\./);
    await thread.getByLabel("Reply").fill("Fine, but bob waits for login.ts: release it first if you can.");
    await thread.getByRole("button", { name: "Send reply" }).click();
    await thread.locator(".thread-message", { hasText: "bob waits for login.ts" }).waitFor();
    t.equal(await thread.locator(".thread-message").count(), 2, "the reply follows the first message");
    const replies = await client(app, a1.token).get(`/v1/threads/${sent.body.threadId}`);
    t.equal(replies.body.messages.at(-1).body, "Fine, but bob waits for login.ts: release it first if you can.", "sent to the API");
    await browser.shot(page, "coordination-claim-thread-reply");
  });

  await t.test("when a handoff is requested for the claim, then it shows on the claim with the thread about it", async (t) => {
    const asked = await client(app, b1.token).post(`/v1/claims/${held.body.id}/handoff`, { reason: "login.ts is all I need" });
    t.equal(asked.status, 201, JSON.stringify(asked.body));
    const handoffId = asked.body.id as string;
    const about = await client(app, b1.token).post("/v1/messages", {
      // To the lead, who reads the threads sent to them (not the two agents' private ones).
      to: { type: "user", id: lead.id },
      subject: "About the handoff",
      body: "Ten minutes on login.ts and it is yours again.",
      about: { type: "handoff", id: handoffId },
    });
    t.equal(about.status, 201, JSON.stringify(about.body));
    const row = card.locator(`[data-testid="claim-handoffs"] li[data-handoff="${handoffId}"]`);
    await row.waitFor();
    t.match(await row.innerText(), /login\.ts is all I need/);
    t.match(await row.innerText(), /waiting for an answer/);
    const thread = row.locator(`[data-testid="threads-about"][data-about="${handoffId}"] li[data-thread="${about.body.threadId}"]`);
    await thread.waitFor();
    t.match(await thread.innerText(), /Ten minutes on login\.ts/);
    // The holder declines: the request says so, live.
    const answered = await client(app, a1.token).post(`/v1/handoffs/${handoffId}/answer`, { answer: "decline", note: "not today" });
    t.equal(answered.status, 200, JSON.stringify(answered.body));
    await card.locator(`li[data-handoff="${handoffId}"][data-status="declined"]`).waitFor();
    t.match(await card.locator(`li[data-handoff="${handoffId}"]`).innerText(), /declined.*not today/s);
    await browser.shot(page, "coordination-claim-handoff");
  });

  await t.test("when the claim is released, then the waiter is granted and leaves the map and its page", async (t) => {
    t.equal((await client(app, a1.token).delete(`/v1/claims/${held.body.id}`)).status, 200);
    await page.waitForFunction((id) => document.querySelectorAll(`[data-queue-entry="${id}"]`).length === 0, entryId);
    t.equal(await page.locator("[data-queue-entry]").count(), 0, "no waiter on the map any more");
    const entry = await client(app, b1.token).get(`/v1/claims/queue/${entryId}`);
    t.equal(entry.body.status, "granted");
    await page.goto(`${base}/#/developer?id=${bob.id}`);
    await page.locator('[data-section="waiting"]', { hasText: "Not waiting for any claim." }).waitFor();
    t.equal(await page.locator('[data-section="waiting"] li[data-queue-entry]').count(), 0);
    await browser.shot(page, "coordination-developer-granted");
  });

  await t.test("when a claim is granted over a latent overlap, then the map marks its conflict latent, not as a clash", async (t) => {
    const tree = await client(app, a1.token).put(`/v1/repos/${encodeURIComponent(REPO)}/tree`, {
      treeId: "c".repeat(40),
      paths: ["README.md", "docs/guide.md", "src/auth/login.ts", "src/auth/token.ts"],
    });
    t.equal(tree.status, 200, JSON.stringify(tree.body));
    // bob holds src/auth/login.ts (granted from the queue); *.md meets it only on src/auth/login.ts/x.md.
    const docs = await client(app, a1.token).post("/v1/claims", { patterns: ["*.md"], ttlSeconds: 600 });
    t.equal(docs.status, 201, "granted: the overlap is latent");
    t.equal(docs.body.conflicts[0].overlap, "latent");
    // *.md has no fixed folder: it sits with the patterns at the root.
    await page.goto(`${base}/#/claims?repo=${encodeURIComponent(REPO)}&path=${encodeURIComponent(":root")}`);
    const conflict = page.locator(`.claims-detail li[data-claim="${docs.body.id}"] .witness-conflict`);
    await conflict.waitFor();
    t.match(await conflict.innerText(), /latent/);
    t.equal(await conflict.locator('[data-overlap="latent"]').count(), 1, "marked latent in words");
    const src = page.locator('.tree-row[data-path="src"]');
    t.match(await src.innerText(), /latent conflict/, "the folder on the witness path says latent conflict");
    t.notOk((await src.getAttribute("class"))?.includes("has-conflict"), "not drawn as a clash");
    await browser.shot(page, "coordination-claims-latent");
  });

  browser.closingChecks();
}
