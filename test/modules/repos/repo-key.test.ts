import t from "tap";
import { normaliseRemote } from "../../../src/modules/repos/repo-key.js";

t.test("when a remote is spelled in any of git's ways, then it maps to one key", async (t) => {
  const same = [
    "git@github.com:Acme/api.git",
    "https://github.com/Acme/api",
    "https://github.com/Acme/api.git",
    "https://github.com/acme/api/",
    "ssh://git@github.com/Acme/api",
    "ssh://git@github.com:22/Acme/api.git",
    "https://user:s3cret@GitHub.com/Acme/api.git",
    "git://github.com/Acme/api.git",
    "github.com/Acme/api",
  ];
  for (const remote of same) {
    const r = normaliseRemote(remote);
    t.same(r.ok && r.key, "github.com/acme/api", remote);
  }
  const nested = normaliseRemote("https://gitlab.example.com/Group/Sub/Repo.git");
  t.same(nested.ok && nested.key, "gitlab.example.com/group/sub/repo");
});

t.test("when a remote carries credentials, then the kept remote does not", async (t) => {
  const r = normaliseRemote("https://user:s3cret@github.com/Acme/api.git");
  t.ok(r.ok);
  if (r.ok) t.notMatch(r.remote, /s3cret|user/);
});

t.test("when a remote is not a git remote, then the reason is given", async (t) => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ["/home/me/repo", /not a git remote/],
    ["file:///home/me/repo", /unsupported scheme/],
    ["ftp://host/repo", /unsupported scheme/],
    ["https://github.com/", /no repository path/],
    ["https://github.com/acme/../api", /'\.\.'|invalid path/],
    ["git@github.com:acme/a b.git", /whitespace/],
    ["git@github.com:acme/\u0000x", /control/],
    ["https://bad_host!/x", /not a valid URL|invalid host/],
    ["x".repeat(1100), /longer than/],
  ];
  for (const [remote, reason] of bad) {
    const r = normaliseRemote(remote);
    t.notOk(r.ok, JSON.stringify(remote.slice(0, 40)));
    if (!r.ok) t.match(r.reason, reason, JSON.stringify(remote.slice(0, 40)));
  }
});
