import { href } from "./router.js";

/**
 * Shareable addresses of the entity pages: every name on the dashboard links to one.
 */
export const developerHref = (id: string) => href("developer", { id });
export const teamHref = (id: string) => href("team", { id });
export const agentHref = (id: string, user?: string) => href("agent", { id, user });
export const sessionHref = (id: string) => href("session", { id });
export const repoHref = (key: string) => href("repo", { key });

/**
 * The code host's web address of a repository, from its key (host + path, lower-cased by the
 * server): GitHub, GitLab and Bitbucket are known by their host (or a host name that starts
 * with github./gitlab./bitbucket., as self-hosted ones usually do). A repository on another
 * host has no link unless a URL template is set for it.
 */
export type CodeHost = "github" | "gitlab" | "bitbucket";

export interface RepoLinks {
  repo: string;
  branch(branch: string): string;
  file(path: string, branch?: string | null): string;
  dir(path: string, branch?: string | null): string;
  /** One line of a file (a CODEOWNERS rule). */
  line(path: string, line: number, branch?: string | null): string;
  /** Its pull (merge) requests; null for a repository linked through a template. */
  pulls: string | null;
  /**
   * Where the host looks for CODEOWNERS first (the server keeps the file's text, not its path):
   * .github/ on GitHub, the root on GitLab, .bitbucket/ on Bitbucket; a template says nothing.
   */
  codeowners: string | null;
}

/**
 * A URL template per repository, set by an admin (PUT /v1/repos/{repo}/link-template), keyed by
 * repository key: `{host}` and `{repo}` are the key's host and path (`git.example.com`,
 * `acme/api`), `{ref}` a branch (HEAD without one), `{path}` a file or folder, `{line}` a line,
 * e.g. `https://git.example.com/{repo}/blob/{ref}/{path}#L{line}`. The server checks a template
 * before storing it (src/modules/repos/repos.schemas.ts).
 */
export type RepoUrlTemplates = Record<string, string>;
export function hostOf(repoKey: string): CodeHost | null {
  const host = repoKey.split("/")[0] ?? "";
  if (host === "github.com" || host.startsWith("github.")) return "github";
  if (host === "gitlab.com" || host.startsWith("gitlab.")) return "gitlab";
  if (host === "bitbucket.org" || host.startsWith("bitbucket.")) return "bitbucket";
  return null;
}

const enc = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** Folder names hosts put between a repository and a ref, dropped to find the repository's own page. */
const REF_SEGMENT = /(\/-)?\/(blob|tree|src|browse|raw|files)$/;

function fromTemplate(template: string, repoKey: string): RepoLinks {
  const slash = repoKey.indexOf("/");
  const host = slash < 0 ? repoKey : repoKey.slice(0, slash);
  const path = slash < 0 ? "" : repoKey.slice(slash + 1);
  // A link to a whole file or folder leaves out the line: the fragment holding {line}, else the placeholder.
  const hash = template.indexOf("#");
  const withoutLine = hash >= 0 && template.indexOf("{line}") > hash ? template.slice(0, hash) : template.replaceAll("{line}", "");
  const fill = (t: string, ref: string, file: string, line = "") =>
    t
      .replaceAll("{host}", host)
      .replaceAll("{repo}", path)
      .replaceAll("{ref}", encodeURIComponent(ref))
      .replaceAll("{path}", enc(file))
      .replaceAll("{line}", line)
      .replace(/\/+$/, "");
  const cut = Math.min(...["{ref}", "{path}"].map((p) => template.indexOf(p)).filter((i) => i >= 0));
  const repo = fill(template.slice(0, cut), "", "").replace(REF_SEGMENT, "");
  return {
    repo,
    branch: (b) => fill(withoutLine, b, ""),
    file: (p, b) => fill(withoutLine, b ?? "HEAD", p),
    dir: (p, b) => fill(withoutLine, b ?? "HEAD", p),
    line: (p, n, b) =>
      template.includes("{line}") ? fill(template, b ?? "HEAD", p, String(n)) : `${fill(template, b ?? "HEAD", p)}#L${n}`,
    // Where a host of unknown layout lists its pull requests is not known.
    pulls: null,
    codeowners: null,
  };
}

export function repoLinks(repoKey: string, templates: RepoUrlTemplates = {}): RepoLinks | null {
  const template = templates[repoKey];
  if (template) return fromTemplate(template, repoKey);
  const host = hostOf(repoKey);
  if (!host || repoKey.split("/").length < 3) return null;
  const base = `https://${enc(repoKey)}`;
  const ref = (b: string | null | undefined) => encodeURIComponent(b ?? "HEAD");
  switch (host) {
    case "github":
      return {
        repo: base,
        branch: (b) => `${base}/tree/${encodeURIComponent(b)}`,
        file: (p, b) => `${base}/blob/${ref(b)}/${enc(p)}`,
        dir: (p, b) => `${base}/tree/${ref(b)}/${enc(p)}`,
        line: (p, n, b) => `${base}/blob/${ref(b)}/${enc(p)}#L${n}`,
        pulls: `${base}/pulls`,
        codeowners: ".github/CODEOWNERS",
      };
    case "gitlab":
      return {
        repo: base,
        branch: (b) => `${base}/-/tree/${encodeURIComponent(b)}`,
        file: (p, b) => `${base}/-/blob/${ref(b)}/${enc(p)}`,
        dir: (p, b) => `${base}/-/tree/${ref(b)}/${enc(p)}`,
        line: (p, n, b) => `${base}/-/blob/${ref(b)}/${enc(p)}#L${n}`,
        pulls: `${base}/-/merge_requests`,
        codeowners: "CODEOWNERS",
      };
    case "bitbucket":
      return {
        repo: base,
        branch: (b) => `${base}/src/${encodeURIComponent(b)}`,
        file: (p, b) => `${base}/src/${ref(b)}/${enc(p)}`,
        dir: (p, b) => `${base}/src/${ref(b)}/${enc(p)}`,
        line: (p, n, b) => `${base}/src/${ref(b)}/${enc(p)}#lines-${n}`,
        pulls: `${base}/pull-requests`,
        codeowners: ".bitbucket/CODEOWNERS",
      };
  }
}

/**
 * What a claim or contract pattern points at on the code host: a literal file, or the folder
 * before its first wildcard (`src/api/**` → the folder src/api); null when nothing fixed leads
 * it (`*.ts`, `**\/x`).
 */
export function patternTarget(pattern: string): { path: string; dir: boolean } | null {
  const clean = pattern.replace(/^\//, "");
  if (!clean || clean.startsWith("!")) return null;
  const segments = clean.split("/");
  const fixed: string[] = [];
  for (const segment of segments) {
    if (/[*?[\]{}]/.test(segment)) break;
    fixed.push(segment);
  }
  if (fixed.length === segments.length) {
    const dir = clean.endsWith("/");
    const path = fixed.filter(Boolean).join("/");
    return path ? { path, dir } : null;
  }
  const path = fixed.filter(Boolean).join("/");
  return path ? { path, dir: true } : null;
}
