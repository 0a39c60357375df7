/**
 * Architecture: the import graph of src/ (and where the dashboard, web/src/, reaches into src/)
 * keeps the project's intended shape. The graph is read with the TypeScript compiler's
 * `preProcessFile`, so `import type`, `export … from` and dynamic `import()` count like any
 * other import; package imports are not part of it. Relative specifiers resolve as the
 * compiler does (`./x.js` → `x.ts`, `x.tsx` or `x.d.ts`; `./dir` → `dir/index.ts`). The
 * generated `src/sdk/schema.d.ts` is not read (imports of it still resolve to it).
 *
 * 0. Every relative import names a file; one that names nothing would drop out of the graph
 *    and escape every rule below.
 * 1. No circle of files anywhere in src/.
 * 2. Tiers, low to high:
 *      tier 0  src/config.ts
 *      tier 1  src/infra/, src/http/, src/patterns/
 *      tier 2  src/events/ (the events kernel)
 *      tier 3  src/modules/<domain>/ (every folder under src/modules/ but delivery), and
 *              src/modules/catalog.ts, which composes the domains' *.events.ts catalogs
 *      tier 4  src/modules/delivery/
 *      tier 5  src/app.ts, src/server.ts, src/mcp/, and src/schema.ts (drizzle-kit's list of
 *              every table: a composition root that nothing in src/ imports)
 *    Beside the ladder stand the clients: src/sdk/, src/cli/ and the dashboard, web/src/.
 *    Every file of src/ sits in one of these places, and a file imports only its own tier or
 *    lower ones. Specifically:
 *    a. src/config.ts imports nothing of src/; src/infra/, src/http/, src/patterns/ import only
 *       each other and src/config.ts (so nothing from src/events/, src/modules/, src/app.ts,
 *       src/mcp/, src/cli/, src/sdk/).
 *    b. src/events/ imports only tiers 0–2 (nothing from src/modules/, app, mcp, cli, sdk).
 *    c. a domain imports only tiers 0–3 but not src/modules/catalog.ts: nothing from
 *       src/modules/delivery/, catalog.ts, app, mcp, cli, sdk.
 *    d. src/modules/catalog.ts imports only src/events/ and the domains' *.events.ts files.
 *    e. a domain's *.events.ts file imports only src/events/, so the SDK and the dashboard can
 *       load the catalogs without server code.
 *    f. src/modules/delivery/ imports only tiers 0–4 (not app, server, mcp, cli, sdk).
 *    g. nothing imports src/modules/delivery/ but src/app.ts, delivery's own files and the SDK,
 *       and the SDK only delivery's pure protocol schemas, stream.schemas.ts and alerts.schemas.ts
 *       (src/schema.ts, the list of every table, names delivery's stream.table.ts).
 *    h. src/app.ts, src/server.ts and src/schema.ts import only the ladder (not the CLI, not the SDK).
 *    i. src/cli/ and src/mcp/ reach the server only through src/sdk/: each imports only its own
 *       files and CLIENT_ALLOWANCE below.
 *    j. nothing src/sdk/ loads, directly or through other files, is a *.table.ts, a
 *       *.repository.ts, src/infra/db.ts, src/app.ts, src/server.ts, src/mcp/ or src/cli/.
 *    k. all web/src/ loads from src/, directly or through other files, is src/patterns/,
 *       src/sdk/describe.ts, src/sdk/schema.d.ts (types), src/events/catalog.ts, or
 *       src/modules/catalog.ts and its import closure.
 * 3. A domain uses another only through its public files: a file of src/modules/A/ does not
 *    import src/modules/B/*.repository.ts (A ≠ B, neither of them delivery). Tables are not
 *    covered: *.table.ts files import each other's tables for foreign keys, which is allowed.
 *
 * Every failure names the files: `a.ts:12 imports b.ts` is line 12 of a.ts, and a chain
 * `a.ts:12 → b.ts:3 → c.ts` is a.ts importing b.ts at its line 12, which imports c.ts at its line 3.
 * Each rule first runs on a hand-made graph that breaks it (and one that keeps it), so the
 * check itself is shown able to fail, then on the real tree.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import t, { type Test } from "tap";
import {
  allImports,
  findCycles,
  formatChain,
  formatCycle,
  graphOf,
  type Import,
  type ImportGraph,
  reach,
  readImportGraph,
  resolveSpecifier,
} from "./helpers/import-graph.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const SKIP = ["src/sdk/schema.d.ts"];

/**
 * What src/cli/ and src/mcp/ may import besides their own files. Both: the SDK (their only way
 * to the server) and the pure path patterns. Beyond that, only what they need today:
 *  - src/cli/ → src/mcp/stdio.ts: `brigade mcp` runs the MCP server over stdio, which itself
 *    reaches the API through the SDK;
 *  - src/mcp/ → src/http/problem.ts: src/mcp/http.ts is the `POST /mcp` route app.ts mounts, and
 *    it answers with the API's problem responses (problem.ts imports only zod).
 * Considered and left out because nothing needs them: src/events/subjects.ts (the SDK's
 * subscribe covers what a client needs) and src/config.ts (the server's environment; the CLI
 * keeps its own src/cli/config.ts).
 */
const CLIENT_ALLOWANCE = {
  cli: ["src/cli/", "src/sdk/", "src/patterns/", "src/mcp/stdio.ts"],
  mcp: ["src/mcp/", "src/sdk/", "src/patterns/", "src/http/problem.ts"],
} as const;

/** The only delivery files the SDK may import: its pure protocol schemas. */
const SDK_DELIVERY_FILES = ["src/modules/delivery/stream.schemas.ts", "src/modules/delivery/alerts.schemas.ts"];

/** What the dashboard may load from src/, besides src/modules/catalog.ts's import closure. */
const WEB_ALLOWANCE = ["src/patterns/", "src/sdk/describe.ts", "src/sdk/schema.d.ts", "src/events/catalog.ts"];

type Tier = "config" | "base" | "events" | "domain" | "catalog" | "delivery" | "top" | "mcp" | "sdk" | "cli" | "web";

const TIER_NAME: Record<Tier, string> = {
  config: "src/config.ts (tier 0)",
  base: "infra/http/patterns (tier 1)",
  events: "the events kernel (tier 2)",
  domain: "a domain (tier 3)",
  catalog: "src/modules/catalog.ts (tier 3)",
  delivery: "delivery (tier 4)",
  top: "app/server/schema (tier 5)",
  mcp: "src/mcp/ (tier 5)",
  sdk: "the SDK",
  cli: "the CLI",
  web: "the dashboard",
};

function tierOf(file: string): Tier | undefined {
  if (file === "src/config.ts") return "config";
  if (/^src\/(infra|http|patterns)\//.test(file)) return "base";
  if (file.startsWith("src/events/")) return "events";
  if (file === "src/modules/catalog.ts") return "catalog";
  if (file.startsWith("src/modules/delivery/")) return "delivery";
  if (/^src\/modules\/[^/]+\//.test(file)) return "domain";
  if (["src/app.ts", "src/server.ts", "src/schema.ts"].includes(file)) return "top";
  if (file.startsWith("src/mcp/")) return "mcp";
  if (file.startsWith("src/sdk/")) return "sdk";
  if (file.startsWith("src/cli/")) return "cli";
  if (file.startsWith("web/src/")) return "web";
  return undefined;
}

/** The domain folder of a file (`claims`), or undefined outside src/modules/<domain>/ or in delivery. */
function domainOf(file: string): string | undefined {
  const domain = /^src\/modules\/([^/]+)\//.exec(file)?.[1];
  return domain === "delivery" ? undefined : domain;
}

const nameOf = (file: string) => TIER_NAME[tierOf(file)!] ?? "a file in no tier";
const under = (file: string, prefixes: readonly string[]) => prefixes.some((p) => (p.endsWith("/") ? file.startsWith(p) : file === p));
const said = (i: Import) => `${i.from}:${i.line} imports ${i.to}`;

/** The imports made by files of the `from` tiers whose target is not in the `may` tiers. */
function tierCheck(from: Tier[], may: Tier[]) {
  return (graph: ImportGraph) =>
    allImports(graph)
      .filter((i) => from.includes(tierOf(i.from)!) && !may.includes(tierOf(i.to)!))
      .map((i) => `${said(i)}: ${nameOf(i.from)} may not import ${nameOf(i.to)}`);
}

const LADDER: Tier[] = ["config", "base", "events", "domain", "catalog", "delivery", "top", "mcp"];

/** One rule: its check, a hand-made graph that breaks it with what must be reported, and one that keeps it. */
interface Rule {
  when: string;
  check: (graph: ImportGraph) => string[];
  broken: { graph: ImportGraph; reports: RegExp[] };
  kept: ImportGraph;
}

const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

const unresolvedImports = (graph: ImportGraph) =>
  graph.unresolved.map((u) => `${u.from}:${u.line} imports "${u.specifier}", which names no file`);

const cycleCheck = (graph: ImportGraph) => findCycles(graph, (f) => f.startsWith("src/")).map((c) => `import cycle: ${formatCycle(c)}`);

const tierRules: Rule[] = [
  {
    when: "a file of src/ sits in no tier",
    check: (graph) =>
      graph.files
        .filter((f) => f.startsWith("src/") && tierOf(f) === undefined)
        .map((f) => `${f} sits in no tier: place it on the ladder (and in this test)`),
    broken: {
      graph: graphOf({ "src/util.ts": [], "src/modules/helpers.ts": [] }),
      reports: [re("src/modules/helpers.ts sits in no tier"), re("src/util.ts sits in no tier")],
    },
    kept: graphOf({
      "src/config.ts": [],
      "src/modules/catalog.ts": [],
      "src/modules/claims/claims.usecases.ts": [],
      "src/sdk/client.ts": [],
      "src/schema.ts": [],
    }),
  },
  {
    when: "src/config.ts, src/infra/, src/http/ or src/patterns/ imports above them",
    check: (graph) => [...tierCheck(["config"], ["config"])(graph), ...tierCheck(["base"], ["config", "base"])(graph)],
    broken: {
      graph: graphOf({
        "src/infra/db.ts": ["src/events/append.ts"],
        "src/config.ts": ["src/infra/ids.ts"],
        "src/http/problem.ts": ["src/sdk/client.ts"],
      }),
      reports: [
        re("src/config.ts:1 imports src/infra/ids.ts"),
        re("src/http/problem.ts:1 imports src/sdk/client.ts"),
        re("src/infra/db.ts:1 imports src/events/append.ts"),
      ],
    },
    kept: graphOf({
      "src/infra/migrate.ts": ["src/config.ts", "src/infra/db.ts"],
      "src/infra/metrics.ts": ["src/http/problem.ts"],
      "src/patterns/index.ts": ["src/patterns/path.ts"],
    }),
  },
  {
    when: "the events kernel imports above it",
    check: tierCheck(["events"], ["config", "base", "events"]),
    broken: {
      graph: graphOf({ "src/events/append.ts": ["src/modules/catalog.ts", "src/modules/claims/claims.events.ts", "src/cli/main.ts"] }),
      reports: [
        re("src/events/append.ts:1 imports src/modules/catalog.ts"),
        re("src/events/append.ts:2 imports src/modules/claims/claims.events.ts"),
        re("src/events/append.ts:3 imports src/cli/main.ts"),
      ],
    },
    kept: graphOf({ "src/events/append.ts": ["src/infra/db.ts", "src/events/envelope.ts", "src/config.ts"] }),
  },
  {
    when: "a domain imports delivery, src/modules/catalog.ts or anything above tier 3",
    check: tierCheck(["domain"], ["config", "base", "events", "domain"]),
    broken: {
      graph: graphOf({
        "src/modules/claims/x.ts": ["src/modules/delivery/alerts.errors.ts", "src/modules/catalog.ts", "src/sdk/client.ts", "src/app.ts"],
      }),
      reports: [
        re("x.ts:1 imports src/modules/delivery/alerts.errors.ts"),
        re("x.ts:2 imports src/modules/catalog.ts"),
        re("x.ts:3 imports src/sdk/client.ts"),
        re("x.ts:4 imports src/app.ts"),
      ],
    },
    kept: graphOf({
      "src/modules/claims/x.ts": [
        "src/modules/identity/identity.usecases.ts",
        "src/events/append.ts",
        "src/http/problem.ts",
        "src/config.ts",
      ],
    }),
  },
  {
    when: "src/modules/catalog.ts imports more than the events kernel and the domains' *.events.ts",
    check: (graph) =>
      allImports(graph)
        .filter(
          (i) => tierOf(i.from) === "catalog" && tierOf(i.to) !== "events" && !(tierOf(i.to) === "domain" && i.to.endsWith(".events.ts")),
        )
        .map((i) => `${said(i)}: src/modules/catalog.ts may import only src/events/ and the domains' *.events.ts`),
    broken: {
      graph: graphOf({ "src/modules/catalog.ts": ["src/events/catalog.ts", "src/modules/claims/claims.usecases.ts", "src/infra/db.ts"] }),
      reports: [re("catalog.ts:2 imports src/modules/claims/claims.usecases.ts"), re("catalog.ts:3 imports src/infra/db.ts")],
    },
    kept: graphOf({ "src/modules/catalog.ts": ["src/events/catalog.ts", "src/events/envelope.ts", "src/modules/claims/claims.events.ts"] }),
  },
  {
    when: "a domain's *.events.ts imports more than the events kernel",
    check: (graph) =>
      allImports(graph)
        .filter((i) => tierOf(i.from) === "domain" && i.from.endsWith(".events.ts") && tierOf(i.to) !== "events")
        .map((i) => `${said(i)}: a domain's *.events.ts may import only src/events/ (the SDK and the dashboard load it)`),
    broken: {
      graph: graphOf({
        "src/modules/claims/claims.events.ts": ["src/events/catalog.ts", "src/modules/claims/claims.schemas.ts", "src/http/problem.ts"],
      }),
      reports: [
        re("claims.events.ts:2 imports src/modules/claims/claims.schemas.ts"),
        re("claims.events.ts:3 imports src/http/problem.ts"),
      ],
    },
    kept: graphOf({
      "src/modules/claims/claims.events.ts": ["src/events/catalog.ts"],
      "src/modules/claims/claims.usecases.ts": ["src/infra/db.ts"],
    }),
  },
  {
    when: "delivery imports above tier 4",
    check: tierCheck(["delivery"], ["config", "base", "events", "domain", "catalog", "delivery"]),
    broken: {
      graph: graphOf({ "src/modules/delivery/relay.ts": ["src/app.ts", "src/mcp/http.ts", "src/sdk/subscribe.ts"] }),
      reports: [
        re("relay.ts:1 imports src/app.ts"),
        re("relay.ts:2 imports src/mcp/http.ts"),
        re("relay.ts:3 imports src/sdk/subscribe.ts"),
      ],
    },
    kept: graphOf({
      "src/modules/delivery/relay.ts": [
        "src/modules/catalog.ts",
        "src/modules/claims/claims.usecases.ts",
        "src/events/subjects.ts",
        "src/modules/delivery/outbox.ts",
      ],
    }),
  },
  {
    when: "anything but src/app.ts, delivery itself or the SDK's protocol schemas imports delivery",
    check: (graph) =>
      allImports(graph)
        .filter((i) => tierOf(i.to) === "delivery" && i.from !== "src/app.ts" && tierOf(i.from) !== "delivery")
        .filter((i) => !(tierOf(i.from) === "sdk" && SDK_DELIVERY_FILES.includes(i.to)))
        // drizzle-kit's list of every table names delivery's table too (and nothing else of it).
        .filter((i) => !(i.from === "src/schema.ts" && i.to.endsWith(".table.ts")))
        .map(
          (i) =>
            `${said(i)}: only src/app.ts, delivery itself and the SDK (for ${SDK_DELIVERY_FILES.join(", ")}) may import src/modules/delivery/`,
        ),
    broken: {
      graph: graphOf({
        "src/modules/system/health.routes.ts": ["src/modules/delivery/outbox.ts"],
        "src/sdk/subscribe.ts": ["src/modules/delivery/stream.schemas.ts", "src/modules/delivery/feed.repository.ts"],
        "src/mcp/tools/alerts.ts": ["src/modules/delivery/alerts.schemas.ts"],
      }),
      reports: [
        re("src/mcp/tools/alerts.ts:1 imports src/modules/delivery/alerts.schemas.ts"),
        re("src/modules/system/health.routes.ts:1 imports src/modules/delivery/outbox.ts"),
        re("src/sdk/subscribe.ts:2 imports src/modules/delivery/feed.repository.ts"),
      ],
    },
    kept: graphOf({
      "src/app.ts": ["src/modules/delivery/relay.ts"],
      "src/modules/delivery/relay.ts": ["src/modules/delivery/outbox.ts"],
      "src/sdk/subscribe.ts": ["src/modules/delivery/stream.schemas.ts", "src/modules/delivery/alerts.schemas.ts"],
    }),
  },
  {
    when: "src/app.ts, src/server.ts or src/schema.ts imports the CLI or the SDK",
    check: tierCheck(["top"], LADDER),
    broken: {
      graph: graphOf({ "src/app.ts": ["src/cli/main.ts", "src/sdk/client.ts"] }),
      reports: [re("src/app.ts:1 imports src/cli/main.ts"), re("src/app.ts:2 imports src/sdk/client.ts")],
    },
    kept: graphOf({
      "src/app.ts": ["src/mcp/http.ts", "src/modules/delivery/relay.ts", "src/config.ts"],
      "src/server.ts": ["src/app.ts"],
      "src/schema.ts": ["src/modules/claims/claims.table.ts", "src/events/tables.ts"],
    }),
  },
  {
    when: "the CLI or the MCP server reaches past the SDK and its allowance",
    check: (graph) =>
      allImports(graph).flatMap((i) => {
        const client = tierOf(i.from);
        if (client !== "cli" && client !== "mcp") return [];
        const allowed = CLIENT_ALLOWANCE[client];
        return under(i.to, allowed) ? [] : [`${said(i)}: src/${client}/ may import only ${allowed.join(", ")}`];
      }),
    broken: {
      graph: graphOf({
        "src/cli/commands/x.ts": ["src/modules/claims/claims.usecases.ts", "src/config.ts", "src/mcp/http.ts", "src/sdk/client.ts"],
        "src/mcp/tools/x.ts": ["src/infra/db.ts", "src/cli/output.ts", "src/events/subjects.ts", "src/patterns/index.ts"],
      }),
      reports: [
        re("src/cli/commands/x.ts:1 imports src/modules/claims/claims.usecases.ts"),
        re("src/cli/commands/x.ts:2 imports src/config.ts"),
        re("src/cli/commands/x.ts:3 imports src/mcp/http.ts"),
        re("src/mcp/tools/x.ts:1 imports src/infra/db.ts"),
        re("src/mcp/tools/x.ts:2 imports src/cli/output.ts"),
        re("src/mcp/tools/x.ts:3 imports src/events/subjects.ts"),
      ],
    },
    kept: graphOf({
      "src/cli/commands/mcp.ts": ["src/sdk/client.ts", "src/mcp/stdio.ts", "src/cli/context.ts", "src/patterns/index.ts"],
      "src/mcp/http.ts": ["src/http/problem.ts", "src/sdk/inject.ts", "src/mcp/tools/index.ts"],
    }),
  },
  {
    when: "the SDK loads tables, repositories, the database, the server, the MCP server or the CLI",
    check: (graph) => {
      const forbidden = (f: string) =>
        f.endsWith(".table.ts") ||
        f.endsWith(".repository.ts") ||
        under(f, ["src/infra/db.ts", "src/app.ts", "src/server.ts", "src/mcp/", "src/cli/"]);
      const sdk = graph.files.filter((f) => tierOf(f) === "sdk");
      return [...reach(graph, sdk, forbidden)]
        .filter(([file, chain]) => chain.length > 0 && forbidden(file))
        .map(([, chain]) => `${formatChain(chain)}: the SDK must not load this`);
    },
    broken: {
      graph: graphOf({
        "src/sdk/subscribe.ts": ["src/modules/delivery/stream.schemas.ts"],
        "src/modules/delivery/stream.schemas.ts": ["src/modules/delivery/feed.repository.ts"],
        "src/modules/delivery/feed.repository.ts": ["src/infra/db.ts"],
        "src/sdk/client.ts": ["src/cli/output.ts"],
      }),
      reports: [
        re("src/sdk/subscribe.ts:1 → src/modules/delivery/stream.schemas.ts:1 → src/modules/delivery/feed.repository.ts:"),
        re("src/sdk/client.ts:1 → src/cli/output.ts:"),
      ],
    },
    kept: graphOf({
      "src/sdk/describe.ts": ["src/modules/catalog.ts", "src/events/envelope.ts"],
      "src/modules/catalog.ts": ["src/modules/claims/claims.events.ts"],
      "src/sdk/subscribe.ts": ["src/modules/delivery/stream.schemas.ts", "src/events/subjects.ts"],
      "src/sdk/client.ts": ["src/sdk/schema.d.ts"],
    }),
  },
  {
    when: "the dashboard loads from src/ more than its allowance and the domains' catalogs",
    check: (graph) => {
      const catalogs = reach(graph, ["src/modules/catalog.ts"]);
      const allowed = (f: string) => !f.startsWith("src/") || under(f, WEB_ALLOWANCE) || catalogs.has(f);
      const web = graph.files.filter((f) => tierOf(f) === "web");
      return [...reach(graph, web, (f) => !allowed(f))]
        .filter(([file]) => !allowed(file))
        .map(
          ([, chain]) =>
            `${formatChain(chain)}: web/src/ may load from src/ only ${WEB_ALLOWANCE.join(", ")} and src/modules/catalog.ts's closure`,
        );
    },
    broken: {
      graph: graphOf({
        "web/src/lib/x.ts": ["src/sdk/client.ts"],
        "web/src/lib/y.ts": ["src/sdk/describe.ts"],
        "src/sdk/describe.ts": ["src/infra/db.ts"],
      }),
      reports: [re("web/src/lib/x.ts:1 → src/sdk/client.ts:"), re("web/src/lib/y.ts:1 → src/sdk/describe.ts:1 → src/infra/db.ts:")],
    },
    kept: graphOf({
      "web/src/lib/describe.ts": ["src/events/catalog.ts", "src/sdk/describe.ts", "src/patterns/index.ts", "web/src/api/types.ts"],
      "web/src/api/types.ts": ["src/sdk/schema.d.ts"],
      "src/sdk/describe.ts": ["src/modules/catalog.ts", "src/events/envelope.ts"],
      "src/modules/catalog.ts": ["src/events/envelope.ts", "src/modules/claims/claims.events.ts"],
      "src/patterns/index.ts": ["src/patterns/path.ts"],
    }),
  },
];

const repositoryRule: Rule = {
  when: "a domain imports another domain's repository",
  check: (graph) =>
    allImports(graph).flatMap((i) => {
      const [a, b] = [domainOf(i.from), domainOf(i.to)];
      if (!a || !b || a === b || !i.to.endsWith(".repository.ts")) return [];
      return [`${said(i)}: the ${a} domain may use the ${b} domain only through its public files, not its repository`];
    }),
  broken: {
    graph: graphOf({
      "src/modules/sessions/sessions.usecases.ts": [
        "src/modules/sessions/sessions.repository.ts",
        "src/modules/identity/identity.repository.ts",
      ],
    }),
    reports: [re("src/modules/sessions/sessions.usecases.ts:2 imports src/modules/identity/identity.repository.ts")],
  },
  kept: graphOf({
    "src/modules/sessions/sessions.usecases.ts": [
      "src/modules/identity/identity.usecases.ts",
      "src/modules/sessions/sessions.repository.ts",
    ],
    "src/modules/claims/claims.table.ts": ["src/modules/identity/identity.table.ts"],
    "src/modules/delivery/stream.hub.ts": ["src/modules/identity/identity.repository.ts"],
  }),
};

const started = performance.now();
const real = readImportGraph(root, ["src", "web/src"], SKIP);
const readMs = performance.now() - started;

/** The hand-made graphs first (the check can fail, and passes what it should), then the real tree. */
function proveAndRun(t: Test, rule: Rule) {
  const found = rule.check(rule.broken.graph);
  t.equal(
    found.length,
    rule.broken.reports.length,
    `on a hand-made graph that breaks it, the check reports ${rule.broken.reports.length}`,
    { found },
  );
  for (const pattern of rule.broken.reports)
    t.ok(
      found.some((m) => pattern.test(m)),
      `and names ${pattern.source.replace(/\\/g, "")}`,
      { found },
    );
  t.same(rule.check(rule.kept), [], "on a hand-made graph that keeps it, the check reports nothing");
  t.same(rule.check(real), [], "the real tree keeps it");
}

t.test("when the import graph of src/ and web/src/ is read, then it is complete", async (t) => {
  t.test("when a specifier is resolved, then it names the TypeScript file the compiler would load", async (t) => {
    t.equal(resolveSpecifier(root, "src/app.ts", "./config.js"), "src/config.ts");
    t.equal(resolveSpecifier(root, "src/app.ts", "./patterns"), "src/patterns/index.ts", "a folder resolves to its index.ts");
    t.equal(resolveSpecifier(root, "src/sdk/client.ts", "./schema.js"), "src/sdk/schema.d.ts");
    t.equal(resolveSpecifier(root, "web/src/main.tsx", "./app.js"), "web/src/app.tsx", ".js resolves to .tsx");
    t.equal(resolveSpecifier(root, "web/src/main.tsx", "./styles.css"), "asset");
    t.equal(resolveSpecifier(root, "src/app.ts", "./gone.js"), undefined);
  });

  t.test("when a file imports in every form, then each import is an edge with its line", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "brigade-architecture-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, "src", "lib"), { recursive: true });
    for (const f of ["b.ts", "c.ts", "d.ts", "e.ts", "f.tsx", "lib/index.ts"]) writeFileSync(path.join(dir, "src", f), "export {};\n");
    writeFileSync(
      path.join(dir, "src", "a.ts"),
      [
        'import { z } from "zod";',
        'import type { B } from "./b.js";',
        'export * from "./c.js";',
        "const d = () => import('./d.js');",
        'export { e } from "./e.js";',
        'import "./f.js";',
        'import * as lib from "./lib";',
        'import { gone } from "./gone.js";',
        'import { again } from "./b.js";',
      ].join("\n"),
    );
    const graph = readImportGraph(dir, ["src"]);
    t.same(
      graph.imports.get("src/a.ts")!.map((i) => `${i.line} ${i.to}`),
      ["2 src/b.ts", "3 src/c.ts", "4 src/d.ts", "5 src/e.ts", "6 src/f.tsx", "7 src/lib/index.ts"],
      "import type, export-from, dynamic import(), .tsx and folders are edges; packages are not; a file imported twice is one edge",
    );
    t.same(unresolvedImports(graph), ['src/a.ts:8 imports "./gone.js", which names no file']);
  });

  t.test("when src/ and web/src/ are read, then every relative import names a file", async (t) => {
    t.same(unresolvedImports(real), [], "no relative import names a missing file");
  });

  t.ok(
    real.files.length > 100 && real.imports.has("src/app.ts") && real.imports.has("web/src/main.tsx"),
    `the real graph holds src/ and web/src/ (${real.files.length} files)`,
  );
  t.notOk(real.imports.has("src/sdk/schema.d.ts"), "the generated src/sdk/schema.d.ts is not read");
  t.comment(`reading the graph took ${Math.round(readMs)} ms`);
});

t.test("rule 1: when files import each other in a circle, then the cycle is reported", async (t) => {
  t.test("when a hand-made graph has circles, then each is named with its files in import order", async (t) => {
    const found = cycleCheck(
      graphOf({
        "src/a.ts": ["src/b.ts"],
        "src/b.ts": ["src/x.ts", "src/c.ts"],
        "src/c.ts": ["src/a.ts"],
        "src/d.ts": ["src/a.ts"],
        "src/e.ts": ["src/e.ts"],
        "src/k1.ts": ["src/k2.ts"],
        "src/k2.ts": ["src/k1.ts", "src/k3.ts"],
        "src/k3.ts": ["src/k2.ts"],
      }),
    );
    t.same(found, [
      "import cycle: src/a.ts:1 → src/b.ts:2 → src/c.ts:1 → src/a.ts",
      "import cycle: src/e.ts:1 → src/e.ts",
      "import cycle: src/k1.ts:1 → src/k2.ts:1 → src/k1.ts (the same knot also holds src/k3.ts)",
    ]);
  });

  t.test("when a hand-made graph has no circle in src/, then nothing is reported", async (t) => {
    t.same(
      cycleCheck(
        graphOf({
          "src/a.ts": ["src/b.ts", "src/c.ts"],
          "src/b.ts": ["src/c.ts"],
          "web/src/x.ts": ["web/src/y.ts"],
          "web/src/y.ts": ["web/src/x.ts"],
        }),
      ),
      [],
    );
  });

  t.test("when src/ is read, then it has no import cycle", async (t) => {
    t.same(cycleCheck(real), [], "no circle of files in src/");
  });
});

t.test("rule 2: when a file imports above its tier or past its allowance, then the import is reported", async (t) => {
  for (const rule of tierRules) t.test(`when ${rule.when}, then the files are named`, async (t) => proveAndRun(t, rule));
});

t.test(`rule 3: when ${repositoryRule.when}, then the import is reported`, async (t) => proveAndRun(t, repositoryRule));
