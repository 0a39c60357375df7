/**
 * Sessions the CLI remembers between invocations, as private files under the config folder:
 *
 * - `sessions/worktree-<hash>.json`: the session `brigade session start` opened for a worktree,
 *   used by later commands run there (claim, check, …) when no BRIGADE_SESSION_ID is set;
 * - `sessions/claude-code-<id>.json`: the session the Claude Code SessionStart hook opened for
 *   one Claude Code session, used by its other hooks.
 */
import { createHash } from "node:crypto";
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
  /** Alerts already shown to the agent (so a prompt hook shows each once). */
  shownAlerts?: string[];
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 24);

export const worktreeStatePath = (worktree: string, e?: Env) => join(configDir(e), "sessions", `worktree-${digest(worktree)}.json`);
export const agentStatePath = (agent: string, agentSessionId: string, e?: Env) =>
  join(configDir(e), "sessions", `${agent}-${agentSessionId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100)}.json`);

export const readSaved = (path: string) => readJsonFile<SavedSession>(path);
export const writeSaved = (path: string, s: SavedSession) => writePrivateJson(path, s);
export const forgetSaved = (path: string) => removeFile(path);
