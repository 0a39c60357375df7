/**
 * Deterministic synthetic data for the claims scenario: a monorepo layout, claims on it,
 * file paths in it, and a CODEOWNERS file for it. Same seed, same data, so two runs (or two
 * machines) measure the same work.
 *
 * The layout: 4 top-level folders (apps, packages, services, libs) holding 200 projects;
 * each project has `src/<module>/<unit>` folders (40 modules × 36 units), i.e. 288,000
 * "areas" of the shape `packages/billing-core/src/auth/handlers`. A claim covers one area,
 * so claims on distinct areas never overlap (all areas have the same depth, none is inside
 * another), and areas are visited in a shuffled order, so any N of them are spread over the
 * whole tree the way a large team's work would be.
 */

/** mulberry32: small, fast, good enough for test data; not for anything secret. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A stable 32-bit hash of an integer, to derive per-item choices without a shared Rng. */
export function hash32(n: number, salt = 0): number {
  let h = (n ^ Math.imul(salt, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const DOMAINS = [
  "billing",
  "identity",
  "search",
  "checkout",
  "catalog",
  "orders",
  "payments",
  "shipping",
  "inventory",
  "notifications",
  "analytics",
  "reporting",
  "messaging",
  "scheduler",
  "gateway",
  "profile",
  "pricing",
  "ledger",
  "media",
  "content",
  "onboarding",
  "support",
  "audit",
  "experiments",
  "recommendations",
  "feeds",
  "storage",
  "workflow",
  "compliance",
  "geo",
  "reviews",
  "loyalty",
  "ads",
  "fraud",
  "tax",
  "invoicing",
  "chat",
  "calendar",
  "maps",
  "export",
] as const;
const KINDS = ["core", "api", "web", "worker", "sdk"] as const;
const MODULES = [
  "auth",
  "api",
  "db",
  "models",
  "routes",
  "handlers",
  "services",
  "utils",
  "hooks",
  "components",
  "store",
  "events",
  "jobs",
  "cache",
  "config",
  "middleware",
  "validation",
  "serializers",
  "clients",
  "adapters",
  "queries",
  "mutations",
  "schemas",
  "views",
  "pages",
  "layouts",
  "styles",
  "i18n",
  "metrics",
  "logging",
  "errors",
  "security",
  "sessions",
  "uploads",
  "webhooks",
  "search",
  "reports",
  "admin",
  "billing",
  "notifications",
] as const;
const UNITS = [
  "common",
  "internal",
  "legacy",
  "v1",
  "v2",
  "shared",
  "helpers",
  "types",
  "forms",
  "tables",
  "filters",
  "widgets",
  "dialogs",
  "cards",
  "lists",
  "charts",
  "export",
  "import",
  "sync",
  "batch",
  "stream",
  "retry",
  "policies",
  "rules",
  "mappers",
  "fixtures",
  "mocks",
  "parsers",
  "formatters",
  "guards",
  "resolvers",
  "loaders",
  "writers",
  "readers",
  "builders",
  "factories",
] as const;
const FILE_STEMS = [
  "index",
  "client",
  "server",
  "handler",
  "service",
  "model",
  "schema",
  "types",
  "utils",
  "constants",
  "router",
  "controller",
  "store",
  "reducer",
  "selectors",
  "actions",
  "hooks",
  "context",
  "provider",
  "config",
  "errors",
  "logger",
  "mapper",
  "validator",
  "parser",
  "formatter",
  "factory",
  "adapter",
  "repository",
  "query",
] as const;
const EXTENSIONS = [".ts", ".ts", ".ts", ".tsx", ".test.ts", ".js", ".json", ".md", ".sql", ".css"] as const;

interface Project {
  /** e.g. `packages/billing-core` */
  path: string;
  top: string;
}

const TOPS: readonly [string, number][] = [
  ["apps", 24],
  ["packages", 96],
  ["services", 48],
  ["libs", 32],
];

function buildProjects(): Project[] {
  const projects: Project[] = [];
  let n = 0;
  for (const [top, count] of TOPS) {
    for (let i = 0; i < count; i++, n++) {
      // 40 domains × 5 kinds = 200 distinct names; the top folder varies with them.
      const name = `${DOMAINS[n % DOMAINS.length]}-${KINDS[Math.floor(n / DOMAINS.length) % KINDS.length]}`;
      projects.push({ path: `${top}/${name}`, top });
    }
  }
  return projects;
}

export const PROJECTS: readonly Project[] = buildProjects();
export const AREA_COUNT = PROJECTS.length * MODULES.length * UNITS.length;

/** The monorepo and a seeded, shuffled order of its areas. */
export class SyntheticRepo {
  /** order[k] = the k-th area visited: a permutation of 0..AREA_COUNT-1. */
  private readonly order: Int32Array;

  constructor(readonly seed: number) {
    const rng = new Rng(seed);
    this.order = new Int32Array(AREA_COUNT);
    for (let i = 0; i < AREA_COUNT; i++) this.order[i] = i;
    for (let i = AREA_COUNT - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = this.order[i]!;
      this.order[i] = this.order[j]!;
      this.order[j] = t;
    }
  }

  /** The k-th area folder (k < AREA_COUNT), e.g. `services/orders-api/src/cache/retry`. */
  area(k: number): string {
    if (k < 0 || k >= AREA_COUNT) throw new RangeError(`area ${k} out of 0..${AREA_COUNT - 1}`);
    const a = this.order[k]!;
    const unit = a % UNITS.length;
    const module = Math.floor(a / UNITS.length) % MODULES.length;
    const project = Math.floor(a / (UNITS.length * MODULES.length));
    return `${PROJECTS[project]!.path}/src/${MODULES[module]}/${UNITS[unit]}`;
  }

  /**
   * A claim on area k, in the shapes agents use: the whole folder (`…/**` or `…/`), one
   * file, or the direct children of one type (`…/*.ts`). Always inside the area, so claims
   * on distinct areas never overlap.
   */
  claimPattern(k: number): string {
    const area = this.area(k);
    const h = hash32(k, this.seed);
    const shape = h % 100;
    if (shape < 40) return `${area}/**`;
    if (shape < 55) return `${area}/`;
    if (shape < 85) return `${area}/${fileName(h >>> 8)}`;
    return `${area}/*${(h >>> 8) % 3 === 0 ? ".tsx" : ".ts"}`;
  }

  /** One exact file in area k (what etcd locks: exact paths only). */
  filePath(k: number, variant = 0): string {
    return `${this.area(k)}/${fileName(hash32(k, this.seed + variant))}`;
  }
}

function fileName(h: number): string {
  return `${FILE_STEMS[h % FILE_STEMS.length]}${EXTENSIONS[(h >>> 5) % EXTENSIONS.length]}`;
}

/**
 * Unanchored claims (no slash, or a wildcard first segment): they live at the index root and
 * are a candidate for every query, so their share matters for scaling. The kinds agents do
 * take: one file name anywhere, a file type anywhere, a folder name anywhere.
 */
export function unanchoredPattern(k: number): string {
  const h = hash32(k, 7);
  switch (h % 5) {
    case 0:
      return `${FILE_STEMS[(h >>> 3) % FILE_STEMS.length]}-${k}.generated.ts`;
    case 1:
      return `*.${["snap", "lock", "gen.ts", "pb.go", "min.js"][(h >>> 3) % 5]}`;
    case 2:
      return `**/${["migrations", "fixtures", "__snapshots__", "generated", "vendor"][(h >>> 3) % 5]}/`;
    case 3:
      return `CHANGELOG-${k}.md`;
    default:
      return `*/src/${MODULES[(h >>> 3) % MODULES.length]}/${UNITS[(h >>> 9) % UNITS.length]}-${k}/**`;
  }
}

/**
 * File paths for owner look-ups: mostly files inside areas (some nested one level deeper),
 * plus project-level files, docs and root files, as a "who owns this?" stream would ask.
 */
export function samplePaths(repo: SyntheticRepo, count: number, seed: number): string[] {
  return sampleLookups(repo, count, seed).map((l) => l.path);
}

/** As samplePaths, with the area each path lies in (-1 for paths outside every area). */
export function sampleLookups(repo: SyntheticRepo, count: number, seed: number): { path: string; area: number }[] {
  const rng = new Rng(seed);
  const lookups: { path: string; area: number }[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.int(100);
    const k = rng.int(AREA_COUNT);
    if (r < 55) lookups.push({ path: repo.filePath(k, i), area: k });
    else if (r < 75) lookups.push({ path: `${repo.area(k)}/${rng.pick(UNITS)}/${fileName(rng.int(1 << 30))}`, area: k });
    else if (r < 85) {
      const project = rng.pick(PROJECTS).path;
      lookups.push({
        path: `${project}/${rng.pick(["package.json", "README.md", "tsconfig.json", "Dockerfile", "deploy/values.yaml", "test/e2e/smoke.test.ts", "db/migrations/0042_add_index.sql"])}`,
        area: -1,
      });
    } else if (r < 92) lookups.push({ path: `docs/${rng.pick(DOMAINS)}/${rng.pick(FILE_STEMS)}.md`, area: -1 });
    else
      lookups.push({
        path: rng.pick([
          "package.json",
          "README.md",
          ".github/workflows/ci.yml",
          "Makefile",
          "tsconfig.base.json",
          "pnpm-lock.yaml",
          "scripts/release.sh",
        ]),
        area: -1,
      });
  }
  return lookups;
}

const TEAMS = [
  "platform",
  "frontend",
  "backend",
  "data",
  "infra",
  "security",
  "payments-team",
  "growth",
  "search-team",
  "mobile",
  "design-systems",
  "sre",
  "qa",
  "docs",
  "dba",
  "ml",
  "identity-team",
  "billing-team",
  "devex",
  "compliance-team",
] as const;
const USERS = [
  "alice",
  "bob",
  "carol",
  "dave",
  "erin",
  "frank",
  "grace",
  "heidi",
  "ivan",
  "judy",
  "mallory",
  "niaj",
  "olivia",
  "peggy",
  "rupert",
  "sybil",
  "trent",
  "victor",
  "walter",
  "yolanda",
] as const;

function owners(rng: Rng): string {
  const n = rng.int(100);
  const team = () => `@acme/${rng.pick(TEAMS)}`;
  if (n < 55) return team();
  if (n < 80) return `${team()} @${rng.pick(USERS)}`;
  if (n < 92) return `${team()} ${team()}`;
  if (n < 97) return `${rng.pick(USERS)}@acme.example`;
  return ""; // explicitly unowned: a later rule without owners overrides earlier ones
}

/**
 * A CODEOWNERS file of exactly `ruleCount` rules (plus comments and blank lines) for the
 * synthetic monorepo, shaped like a large real one: catch-alls first, then per-project and
 * per-module folders, per-unit globs, file-type and folder-name rules anywhere, and wildcard
 * segments. Later, more specific rules override earlier ones (last match wins).
 */
export function generateCodeowners(seed: number, ruleCount: number): string {
  const rng = new Rng(seed);
  const lines: string[] = [
    "# CODEOWNERS for the acme monorepo (synthetic, generated by bench/lib/synthetic.ts)",
    "# Last matching rule wins.",
    "",
  ];
  const rules: string[] = [];
  const add = (pattern: string, who: string) => rules.push(who ? `${pattern} ${who}` : pattern);
  add("*", "@acme/platform");
  add("*.md", "@acme/docs");
  add("/docs/", "@acme/docs");
  add("/.github/", "@acme/devex @acme/sre");
  add("package.json", "@acme/platform");
  add("pnpm-lock.yaml", "@acme/platform");
  add("*.sql", "@acme/dba");
  add("Dockerfile", "@acme/sre");
  add("**/migrations/", "@acme/dba");
  add("/services/*/deploy/", "@acme/sre");
  add("/apps/*/public/", "@acme/design-systems");
  add("*.snap", "");
  for (const project of PROJECTS) add(`/${project.path}/`, owners(rng) || "@acme/platform");
  // Module, unit and glob rules until the count is reached, in project order like a real file
  // that grew by sections; a share of them are unanchored or use wildcard segments.
  const seen = new Set(rules.map((r) => r.split(" ")[0]));
  while (rules.length < ruleCount) {
    const project = rng.pick(PROJECTS).path;
    const module = rng.pick(MODULES);
    const unit = rng.pick(UNITS);
    // In half-percent steps: 0.5% each of the two unanchored kinds (a file name anywhere, a
    // folder path anywhere), so with the 8 catch-alls about 1.2% of the rules are unanchored.
    const r = rng.int(200);
    let pattern: string;
    if (r < 90) pattern = `/${project}/src/${module}/`;
    else if (r < 130) pattern = `/${project}/src/${module}/${unit}/`;
    else if (r < 150) pattern = `/${project}/src/${module}/**/*.test.ts`;
    else if (r < 166) pattern = `/${project}/src/${module}/${unit}/*.tsx`;
    else if (r < 176) pattern = `/${project}/src/*/${unit}/`;
    else if (r < 186) pattern = `${project}/src/${module}/${rng.pick(FILE_STEMS)}.ts`;
    else if (r < 198) pattern = `/${project}/test/`;
    else if (r < 199) pattern = `${rng.pick(FILE_STEMS)}-${rng.int(1000)}.config.ts`;
    else pattern = `**/${module}/${unit}/`;
    if (seen.has(pattern)) continue;
    seen.add(pattern);
    add(pattern, owners(rng));
  }
  // Comments and blank lines between sections, as in real files.
  rules.forEach((rule, i) => {
    if (i > 0 && i % 250 === 0) lines.push("", `# section ${i / 250}`);
    lines.push(rule);
  });
  return `${lines.join("\n")}\n`;
}
