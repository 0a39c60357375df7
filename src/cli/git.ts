/** What the CLI asks git, through `git` subprocesses (the user's git, config and credentials). */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { CliError } from "./errors.js";

export class NotAGitRepository extends CliError {
  constructor(folder: string) {
    super(`not a git repository: ${folder} (run inside a repository, or pass --repo)`);
  }
}

export function git(args: string[], cwd: string, input?: string, timeoutMs = 0): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const options = { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" as const, timeout: timeoutMs, killSignal: "SIGKILL" as const };
    const child = execFile("git", args, options, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      if (timeoutMs > 0 && (err as { killed?: boolean }).killed)
        return reject(new CliError(`git ${args.find((a) => !a.startsWith("-")) ?? args[0]} took longer than ${timeoutMs} ms`));
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(cwd)) return reject(new CliError(`no such folder: ${cwd}`));
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return reject(new CliError("git is not installed (or not on PATH)"));
      if (/not a git repository/i.test(stderr)) return reject(new NotAGitRepository(cwd));
      const line = stderr.trim().split("\n").pop() || err.message;
      reject(Object.assign(new CliError(`git ${args[0]} failed: ${line}`), { gitExitCode: (err as { code?: unknown }).code, stderr }));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const lines = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
const nul = (s: string) => s.split("\0").filter(Boolean);

/** The top of the working tree containing `cwd`. */
export async function worktreeRoot(cwd: string): Promise<string> {
  return (await git(["rev-parse", "--show-toplevel"], cwd)).trim();
}

/** Remote URLs by name (`git config --get-regexp`, one process for every remote). */
export async function remotes(cwd: string): Promise<Map<string, string>> {
  let out = "";
  try {
    out = await git(["config", "--get-regexp", "^remote\\..*\\.url$"], cwd);
  } catch (err) {
    // Exit 1 means no such key: a repository without remotes.
    if (err instanceof NotAGitRepository || (err as { gitExitCode?: unknown }).gitExitCode !== 1) throw err;
  }
  const map = new Map<string, string>();
  for (const line of lines(out)) {
    const m = /^remote\.(.+)\.url\s+(.+)$/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

/** The remote that names this repository for Brigade: the one asked for, `origin`, or the only one. */
export async function remoteUrl(cwd: string, name?: string): Promise<string> {
  const all = await remotes(cwd);
  if (name) {
    const url = all.get(name);
    if (!url) throw new CliError(`this repository has no remote named ${name}`);
    return url;
  }
  const url = all.get("origin") ?? (all.size === 1 ? [...all.values()][0] : undefined);
  if (url) return url;
  if (all.size === 0) {
    await worktreeRoot(cwd); // outside a repository, say that rather than "no remote"
    throw new CliError("this repository has no remote, so Brigade cannot name it: add one (git remote add origin URL) or pass --repo");
  }
  throw new CliError(`this repository has several remotes and none is called origin (${[...all.keys()].join(", ")}): pass --repo`);
}

export async function currentBranch(cwd: string): Promise<string | undefined> {
  try {
    return (await git(["symbolic-ref", "--short", "-q", "HEAD"], cwd)).trim() || undefined;
  } catch {
    return undefined; // detached HEAD
  }
}

/** Staged paths, root-relative, both sides of a rename, deletions included. */
export async function stagedPaths(cwd: string): Promise<string[]> {
  try {
    return nul(await git(["diff", "--cached", "--name-only", "--no-renames", "--no-relative", "-z"], cwd));
  } catch (err) {
    await worktreeRoot(cwd); // outside a repository git diff is diff --no-index: say what is wrong
    throw err;
  }
}

const ZERO = /^0+$/;

/**
 * Paths changed by what a push sends. `updates` is what git hands pre-push on stdin:
 * `<local ref> <local sha> <remote ref> <remote sha>` per line.
 */
export async function pushedPaths(cwd: string, updates: string, remoteName: string): Promise<string[]> {
  const paths = new Set<string>();
  for (const line of lines(updates)) {
    const [, localSha, , remoteSha] = line.split(/\s+/);
    if (!localSha || ZERO.test(localSha)) continue; // deleting a remote branch changes no file
    let exclude: string[];
    if (remoteSha && !ZERO.test(remoteSha) && (await objectExists(cwd, remoteSha))) exclude = [remoteSha];
    else exclude = [`--remotes=${remoteName}`];
    const out = await git(["log", "--format=", "--name-only", "--no-renames", "-z", localSha, "--not", ...exclude], cwd);
    for (const p of nul(out)) paths.add(p.replace(/^\n+/, ""));
  }
  return [...paths].filter(Boolean);
}

async function objectExists(cwd: string, sha: string): Promise<boolean> {
  try {
    await git(["cat-file", "-e", `${sha}^{commit}`], cwd);
    return true;
  } catch {
    return false;
  }
}

/** Where hooks go: `core.hooksPath` when set, else the repository's hooks folder. */
export async function hooksDir(cwd: string): Promise<string> {
  const out = (await git(["rev-parse", "--git-path", "hooks"], cwd)).trim();
  return isAbsolute(out) ? out : resolve(cwd, out);
}

/**
 * The worktree containing an absolute path, found by walking up to a `.git` entry (no git
 * process: the agent's pre-edit hook runs before every edit). The path may not exist yet.
 */
export function worktreeOf(path: string): string | undefined {
  let dir = dirname(path);
  for (;;) {
    if (existsSync(resolve(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `path` relative to `root` with `/` separators, or undefined when it lies outside. */
export function repoRelative(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (!rel || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  const posix = rel.split(sep).join("/");
  if (posix === ".git" || posix.startsWith(".git/")) return undefined;
  return posix;
}

export const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** HEAD's tree and commit ids; null before the first commit (or outside a repository). */
export async function headTree(cwd: string, timeoutMs = 0): Promise<{ treeId: string; commit: string } | null> {
  try {
    const [treeId, commit] = lines(await git(["rev-parse", "HEAD^{tree}", "HEAD"], cwd, undefined, timeoutMs));
    return treeId && commit ? { treeId, commit } : null;
  } catch {
    return null;
  }
}

/** Every file of a tree (what `git ls-files` lists for a clean checkout of it), repository-relative. */
export async function treeFiles(cwd: string, treeId: string, timeoutMs = 0): Promise<string[]> {
  return nul(await git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", treeId], cwd, undefined, timeoutMs));
}

/** Files added and removed from tree `base` to tree `head`; null when `base` is not in this clone. */
export async function treeDiff(
  cwd: string,
  base: string,
  head: string,
  timeoutMs = 0,
): Promise<{ added: string[]; removed: string[] } | null> {
  let out: string;
  try {
    out = await git(["diff-tree", "-r", "-z", "--no-renames", "--name-status", base, head], cwd, undefined, timeoutMs);
  } catch {
    return null;
  }
  const fields = nul(out);
  const added: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "A") added.push(fields[i + 1]!);
    else if (fields[i] === "D") removed.push(fields[i + 1]!);
  }
  return { added, removed };
}
