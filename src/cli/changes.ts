/**
 * What changed in a worktree between two looks, as git sees it: the files `git status` lists
 * (modified, added, deleted, untracked; not ignored ones), each with a fingerprint of its size,
 * modification time and mode, so a file changed again is seen again. One git process, then a
 * stat per listed file; `--no-optional-locks` so the look never takes the index lock a command
 * of the agent's may need.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { git } from "./git.js";

/** Repository path → fingerprint, for every file git lists as not matching HEAD. */
export type Fingerprints = Record<string, string>;

const GONE = "gone";

/** A file's fingerprint now (size, modification time, mode), or "gone". */
export function fingerprint(root: string, path: string): string {
  const s = lstatSync(join(root, path), { bigint: true, throwIfNoEntry: false });
  return s ? `${s.size}:${s.mtimeNs}:${s.mode.toString(8)}` : GONE;
}

/** The files of the worktree at `root` that differ from HEAD, with their fingerprints. */
export async function dirtyFiles(root: string, timeoutMs: number): Promise<Fingerprints> {
  const out = await git(
    ["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules=dirty"],
    root,
    undefined,
    timeoutMs,
  );
  const files: Fingerprints = {};
  const entries = out.split("\0");
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    // A rename or copy (despite --no-renames, from an older git) names its source next.
    const paths = /[RC]/.test(code) ? [entry.slice(3), entries[++i] ?? ""] : [entry.slice(3)];
    for (const raw of paths) {
      const path = raw.replace(/\/+$/, ""); // an untracked nested repository is listed as "dir/"
      if (path) files[path] = fingerprint(root, path);
    }
  }
  return files;
}

/**
 * The paths whose state differs from `before`: new among the dirty files, or changed since.
 * A path that went back to HEAD's content (a revert, a commit, a checkout) is not a change to
 * report: undoing is what an agent told of a conflict is asked to do.
 */
export function changedSince(before: Fingerprints, now: Fingerprints): string[] {
  return Object.keys(now)
    .filter((p) => before[p] !== now[p])
    .sort();
}
