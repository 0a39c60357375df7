/**
 * Shared by the browser test and the dashboard benchmark: the built assets, Debian's
 * Chromium, and a page watcher that collects console errors.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { Test } from "tap";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const webRoot = join(repoRoot, "web");
export const builtIndex = join(repoRoot, "dist", "web", "index.html");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds web/ into dist/web (vite only; `npm run build` also type-checks it) when the build is
 * missing or older than its sources, so the test always drives the current dashboard.
 */
export function ensureDashboardBuilt(): { built: boolean; ms: number } {
  const sources = Math.max(
    newestMtime(join(webRoot, "src")),
    newestMtime(join(webRoot, "index.html")),
    newestMtime(join(webRoot, "vite.config.ts")),
  );
  const fresh = () => existsSync(builtIndex) && statSync(builtIndex).mtimeMs >= sources;
  if (fresh()) return { built: false, ms: 0 };
  // Test files run side by side: two builds into one dist/web remove each other's files. One
  // builds under a lock (a directory, made atomically); the others wait and find it fresh.
  const release = lockBuild();
  try {
    if (fresh()) return { built: false, ms: 0 };
    return buildDashboard();
  } finally {
    release();
  }
}

const BUILD_LOCK = join(repoRoot, "dist", ".web-build.lock");
/** A lock left by a killed process is taken over after this long (a build takes seconds). */
const STALE_LOCK_MS = 180_000;

function lockBuild(): () => void {
  mkdirSync(join(repoRoot, "dist"), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      return () => rmSync(BUILD_LOCK, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = Date.now() - (statSync(BUILD_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(BUILD_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the dashboard build lock ${BUILD_LOCK} was held too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
}

function buildDashboard(): { built: boolean; ms: number } {
  const started = performance.now();
  const vite = join(repoRoot, "node_modules", "vite", "bin", "vite.js");
  const result = spawnSync(process.execPath, [vite, "build", "-c", join(webRoot, "vite.config.ts"), "--logLevel", "warn"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return { built: true, ms: performance.now() - started };
}

/** Chromium's own flags for running as root in a container, without a GPU. */
export const chromiumArgs = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"];

export interface Watched {
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
}

/** Records every console error and uncaught exception of the page. */
export function watch(page: Page, label: string): Watched {
  const watched: Watched = { errors: [] };
  page.on("console", (message) => {
    if (message.type() === "error") watched.errors.push(`${label}: console: ${message.text()}`);
  });
  page.on("pageerror", (error) => watched.errors.push(`${label}: uncaught: ${error.message}`));
  return watched;
}

let axeSource: string | undefined;

/**
 * Runs axe-core's WCAG 2.1 A/AA rules on the page as it is and returns the serious and
 * critical violations (labels, names, contrast, ARIA use). Evaluated through the DevTools
 * protocol, so the page's Content-Security-Policy stays on.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(join(repoRoot, "node_modules", "axe-core", "axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(", ")}`);
}

/**
 * The file's one parent test in Chromium (the file's root would end itself between subtests
 * while a page works). Without Chromium, CI fails (`.ci/run` installs Debian's package);
 * elsewhere the file plans nothing and says why.
 */
export function chromiumTest(root: Test, name: string, run: (t: Test) => Promise<void>) {
  if (existsSync(CHROMIUM)) return root.test(name, run);
  if (process.env.CI) return root.fail(`Chromium is missing at ${CHROMIUM}; CI installs it with apt-get install -y chromium (see .ci/run)`);
  return root.plan(0, `Chromium is missing at ${CHROMIUM} (apt-get install -y chromium); the dashboard's browser test did not run`);
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  watched: Watched;
}

/**
 * Chromium for one test: tabs in contexts of their own (watched for errors unless asked not
 * to be), sign-in by token, screenshots that are also accessibility checks, and the closing
 * checks that no page had an accessibility problem or logged an error.
 */
export async function openBrowser(t: Test, options: { base: string; shots: string; timeoutMs?: number }) {
  await mkdir(options.shots, { recursive: true });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  t.teardown(() => browser.close());
  const contexts: BrowserContext[] = [];
  const watched: Watched[] = [];
  const a11y: string[] = [];
  return {
    async open(label: string, viewport = { width: 1280, height: 800 }, { errorsExpected = false } = {}): Promise<Tab> {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(options.timeoutMs ?? 20_000);
      const w = watch(page, label);
      if (!errorsExpected) watched.push(w);
      return { context, page, watched: w };
    },
    async signIn(page: Page, token: string) {
      await page.goto(`${options.base}/`);
      await page.getByLabel("Access token").fill(token);
      await page.getByRole("button", { name: "Sign in" }).click();
    },
    /** A full-page screenshot; unless `check` is false, also an accessibility check of the page as shown. */
    async shot(page: Page, name: string, check = true) {
      await page.screenshot({ path: join(options.shots, `${name}.png`), fullPage: true });
      if (!check) return;
      for (const problem of await accessibilityProblems(page)) a11y.push(`${name}: ${problem}`);
    },
    closingChecks() {
      t.test("then no page had a serious accessibility problem (axe-core, WCAG 2.1 AA)", async (t) => {
        t.same(a11y, []);
      });
      t.test("then no page logged an error", async (t) => {
        for (const context of contexts) await context.close();
        t.same(
          watched.flatMap((w) => w.errors),
          [],
        );
      });
    },
  };
}
