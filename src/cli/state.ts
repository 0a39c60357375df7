/**
 * Sessions the CLI remembers between invocations, as private files under the config folder:
 *
 * - `sessions/worktree-<hash>.json`: the session `brigade session start` opened for a worktree,
 *   used by later commands run there (claim, check, …) when no BRIGADE_SESSION_ID is set;
 * - `sessions/claude-code-<id>.json`: the session the Claude Code SessionStart hook opened for
 *   one Claude Code session, used by its other hooks;
 * - `snapshots/claude-code-<hash>-<hash>.json`: the changed files of a worktree as the Bash hook
 *   last reported them for one Claude Code session.
 */
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { configDir, readJsonFile, removeFile, writePrivateJson, type Env } from "./config.js";

export interface SavedSession {
  id: string;
  token: string;
  repo: string;
  server: string;
  worktree?: string | undefined;
  /** When this tool last extended the lease, ms since the epoch (agent-hook sessions). */
  heartbeatAt?: number;
  ttlSeconds?: number;
  /** HEAD's tree id when the repository's file list was last sent to the server (see cli/trees.ts). */
  treeId?: string | undefined;
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 24);

export const worktreeStatePath = (worktree: string, e?: Env) => join(configDir(e), "sessions", `worktree-${digest(worktree)}.json`);
export const agentStatePath = (agent: string, agentSessionId: string, e?: Env) =>
  join(configDir(e), "sessions", `${agent}-${agentSessionId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100)}.json`);

export const readSaved = (path: string) => readJsonFile<SavedSession>(path);
export const writeSaved = (path: string, s: SavedSession) => writePrivateJson(path, s);
export const forgetSaved = (path: string) => removeFile(path);

/**
 * What a worktree's changed files looked like when an agent session last reported them (the
 * Bash PostToolUse hook compares with it): one file per agent session and worktree, under
 * `snapshots/`.
 */
export interface WorktreeSnapshot {
  worktree: string;
  takenAt: number;
  files: Record<string, string>;
}

const snapshotDir = (e?: Env) => join(configDir(e), "snapshots");
const snapshotPrefix = (agent: string, agentSessionId: string) => `${agent}-${digest(agentSessionId)}-`;

export const snapshotPath = (agent: string, agentSessionId: string, worktree: string, e?: Env) =>
  join(snapshotDir(e), `${snapshotPrefix(agent, agentSessionId)}${digest(worktree)}.json`);
export const readSnapshot = (path: string) => readJsonFile<WorktreeSnapshot>(path);
export const writeSnapshot = (path: string, s: WorktreeSnapshot) => writePrivateJson(path, s);

/** Removes an agent session's snapshots (when it ends), and any left by sessions idle for a week. */
export function forgetSnapshots(agent: string, agentSessionId: string, e?: Env): void {
  const prefix = snapshotPrefix(agent, agentSessionId);
  const stale = Date.now() - 7 * 24 * 3600 * 1000;
  let names: string[];
  try {
    names = readdirSync(snapshotDir(e));
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(snapshotDir(e), name);
    try {
      if (name.startsWith(prefix) || statSync(path).mtimeMs < stale) removeFile(path);
    } catch {
      // Gone already (another hook's cleanup).
    }
  }
}
