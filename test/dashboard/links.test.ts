import t from "tap";
import { hostOf, patternTarget, repoLinks } from "../../web/src/lib/links.js";

t.test("when a repository key names a known host, then its web addresses follow that host's layout", async (t) => {
  t.equal(hostOf("github.com/acme/api"), "github");
  t.equal(hostOf("github.acme.internal/team/api"), "github", "a self-hosted GitHub named github.…");
  t.equal(hostOf("gitlab.com/acme/group/web"), "gitlab");
  t.equal(hostOf("bitbucket.org/acme/api"), "bitbucket");
  t.equal(hostOf("git.example.com/acme/api"), null);

  const gh = repoLinks("github.com/acme/api")!;
  t.equal(gh.repo, "https://github.com/acme/api");
  t.equal(gh.branch("feat/auth"), "https://github.com/acme/api/tree/feat%2Fauth", "a slash in a branch stays one segment");
  t.equal(gh.file("src/auth/login.ts"), "https://github.com/acme/api/blob/HEAD/src/auth/login.ts", "the default branch without one");
  t.equal(gh.file("src/a b#.ts", "main"), "https://github.com/acme/api/blob/main/src/a%20b%23.ts", "path segments are escaped");
  t.equal(gh.dir("src/auth", "main"), "https://github.com/acme/api/tree/main/src/auth");
  t.equal(gh.line(".github/CODEOWNERS", 12), "https://github.com/acme/api/blob/HEAD/.github/CODEOWNERS#L12");
  t.equal(gh.pulls, "https://github.com/acme/api/pulls");
  t.equal(gh.codeowners, ".github/CODEOWNERS");

  const gl = repoLinks("gitlab.com/acme/group/web")!;
  t.equal(gl.repo, "https://gitlab.com/acme/group/web", "GitLab's nested groups");
  t.equal(gl.branch("main"), "https://gitlab.com/acme/group/web/-/tree/main");
  t.equal(gl.file("app/x.ts", "dev"), "https://gitlab.com/acme/group/web/-/blob/dev/app/x.ts");
  t.equal(gl.dir("app"), "https://gitlab.com/acme/group/web/-/tree/HEAD/app");
  t.equal(gl.line("CODEOWNERS", 3), "https://gitlab.com/acme/group/web/-/blob/HEAD/CODEOWNERS#L3");
  t.equal(gl.pulls, "https://gitlab.com/acme/group/web/-/merge_requests");
  t.equal(gl.codeowners, "CODEOWNERS");

  const bb = repoLinks("bitbucket.org/acme/api")!;
  t.equal(bb.branch("main"), "https://bitbucket.org/acme/api/src/main");
  t.equal(bb.file("src/a.ts"), "https://bitbucket.org/acme/api/src/HEAD/src/a.ts");
  t.equal(bb.line(".bitbucket/CODEOWNERS", 4, "main"), "https://bitbucket.org/acme/api/src/main/.bitbucket/CODEOWNERS#lines-4");
  t.equal(bb.pulls, "https://bitbucket.org/acme/api/pull-requests");
});

t.test("when a key's host is unknown or the key is not host/owner/name, then there is no link", async (t) => {
  t.equal(repoLinks("git.example.com/acme/api"), null);
  t.equal(repoLinks("github.com/acme"), null, "an owner alone is not a repository");
  t.equal(repoLinks("local-repo"), null);
});

t.test("when a repository has a URL template, then its addresses are filled from it, whatever the host", async (t) => {
  const templates = { "git.example.com/acme/api": "https://git.example.com/{repo}/blob/{ref}/{path}#L{line}" };
  const links = repoLinks("git.example.com/acme/api", templates)!;
  t.ok(links, "a template gives an unknown host links");
  t.equal(links.repo, "https://git.example.com/acme/api", "the repository's page: the address before its ref, less /blob");
  t.equal(links.branch("feat/x"), "https://git.example.com/acme/api/blob/feat%2Fx");
  t.equal(links.file("src/a b.ts", "main"), "https://git.example.com/acme/api/blob/main/src/a%20b.ts", "no line: the fragment goes");
  t.equal(links.dir("src"), "https://git.example.com/acme/api/blob/HEAD/src");
  t.equal(links.line("CODEOWNERS", 2), "https://git.example.com/acme/api/blob/HEAD/CODEOWNERS#L2");
  t.equal(links.pulls, null, "where pull requests are listed is not known");
  t.equal(links.codeowners, null, "where the file lives is not known");

  const query = repoLinks("git.example.com/acme/api", {
    "git.example.com/acme/api": "https://{host}/cgit/{repo}/tree/{path}?h={ref}",
  })!;
  t.equal(query.file("a.ts", "dev"), "https://git.example.com/cgit/acme/api/tree/a.ts?h=dev", "{host}, and the ref after the path");
  t.equal(query.line("a.ts", 7, "dev"), "https://git.example.com/cgit/acme/api/tree/a.ts?h=dev#L7", "no {line}: #L appended");
  t.equal(query.repo, "https://git.example.com/cgit/acme/api");
  const lineInQuery = repoLinks("git.example.com/x/y", { "git.example.com/x/y": "https://g.example/{repo}/{path}?line={line}" })!;
  t.equal(lineInQuery.file("a.ts"), "https://g.example/x/y/a.ts?line=", "a {line} outside the fragment is left empty");
  t.equal(lineInQuery.line("a.ts", 3), "https://g.example/x/y/a.ts?line=3");

  const override = repoLinks("github.com/acme/api", { "github.com/acme/api": "https://mirror.example/{path}" })!;
  t.equal(override.file("a.ts"), "https://mirror.example/a.ts", "a template wins over the host's layout");
  t.equal(repoLinks("github.com/acme/web", templates)!.repo, "https://github.com/acme/web", "templates are per repository");
});

t.test("when a pattern is linked, then it points at its file or at the folder before its first wildcard", async (t) => {
  t.same(patternTarget("src/auth/login.ts"), { path: "src/auth/login.ts", dir: false });
  t.same(patternTarget("/openapi.yaml"), { path: "openapi.yaml", dir: false }, "anchored at the root");
  t.same(patternTarget("src/api/**"), { path: "src/api", dir: true });
  t.same(patternTarget("src/api/*.ts"), { path: "src/api", dir: true });
  t.same(patternTarget("docs/"), { path: "docs", dir: true });
  t.equal(patternTarget("*.ts"), null, "nothing fixed before the wildcard");
  t.equal(patternTarget("**/x.ts"), null);
  t.equal(patternTarget("!src/a.ts"), null, "a negation points at nothing");
});
