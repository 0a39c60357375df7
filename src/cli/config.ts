/**
 * Where the CLI finds its server, token and session. The only reader of the CLI's environment:
 *
 * - the config file, `$XDG_CONFIG_HOME/brigade/config.json` (default `~/.config/brigade/`),
 *   written by `brigade login` with mode 0600;
 * - `BRIGADE_URL` / `BRIGADE_TOKEN` override the file;
 * - `BRIGADE_SESSION_ID` / `BRIGADE_SESSION_TOKEN` name the current session (`brigade run` sets
 *   them for its child); otherwise a session saved for the worktree by `brigade session start`.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createBrigadeClient, type BrigadeClient } from "../sdk/client.js";
import { CliError } from "./errors.js";

export interface StoredConfig {
  server?: string;
  token?: string;
  user?: { id: string; name: string; orgId: string; org?: string };
  /** Default agent name for `run`, `session start` and the agent hooks. */
  agent?: string;
}

export type Env = Record<string, string | undefined>;

const env = (e: Env, key: string) => {
  const v = e[key];
  return v === undefined || v === "" ? undefined : v;
};

export function configDir(e: Env = process.env): string {
  const base = env(e, "XDG_CONFIG_HOME") ?? join(env(e, "HOME") ?? homedir(), ".config");
  return join(base, "brigade");
}

export const configPath = (e: Env = process.env) => join(configDir(e), "config.json");

export function readJsonFile<T>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${path} is not valid JSON; fix or remove it`);
  }
}

/** Writes a private file (0600, folder 0700) atomically. */
export function writePrivateJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

export const readConfig = (e: Env = process.env): StoredConfig => readJsonFile<StoredConfig>(configPath(e)) ?? {};
export const writeConfig = (config: StoredConfig, e: Env = process.env) => writePrivateJson(configPath(e), config);

export interface SessionRef {
  id: string;
  token?: string | undefined;
  /** The session's repository key, when known without asking the server. */
  repo?: string | undefined;
  source: "flag" | "env" | "worktree" | "agent-hook";
}

export interface Settings {
  server: string | undefined;
  token: string | undefined;
  user: StoredConfig["user"];
  agent: string | undefined;
  envSession: SessionRef | undefined;
  timeoutMs: number;
  guard: string | undefined;
  /** Set by Claude Code for SessionStart hooks: a file of `export` lines its shell sources. */
  claudeEnvFile: string | undefined;
}

export function loadSettings(e: Env = process.env): Settings {
  const stored = readConfig(e);
  const sessionId = env(e, "BRIGADE_SESSION_ID");
  const timeout = Number(env(e, "BRIGADE_TIMEOUT_MS") ?? "");
  return {
    server: env(e, "BRIGADE_URL") ?? stored.server,
    token: env(e, "BRIGADE_TOKEN") ?? stored.token,
    // The stored user belongs to the stored token only.
    user: env(e, "BRIGADE_TOKEN") ? undefined : stored.user,
    agent: env(e, "BRIGADE_AGENT") ?? stored.agent,
    envSession: sessionId ? { id: sessionId, token: env(e, "BRIGADE_SESSION_TOKEN"), source: "env" } : undefined,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    guard: env(e, "BRIGADE_GUARD")?.toLowerCase(),
    claudeEnvFile: env(e, "CLAUDE_ENV_FILE"),
  };
}

export function requireServer(settings: Settings): string {
  if (!settings.server) {
    throw new CliError("no server configured: run `brigade login --server URL --token TOKEN`, or set BRIGADE_URL and BRIGADE_TOKEN");
  }
  return settings.server;
}

/**
 * A client for the server. `as: "user"` prefers the personal token (user-level calls), `"session"`
 * the session's token (least privilege for what a session does).
 */
export function clientFor(
  settings: Settings,
  as: "user" | "session" = "user",
  session?: SessionRef,
  timeoutMs = settings.timeoutMs,
): BrigadeClient {
  const server = requireServer(settings);
  const sessionToken = session?.token;
  const token = as === "session" ? (sessionToken ?? settings.token) : (settings.token ?? sessionToken);
  if (!token) throw new CliError("no token: run `brigade login --server URL --token TOKEN`, or set BRIGADE_TOKEN");
  return createBrigadeClient({ baseUrl: server, token, timeoutMs, userAgent: "brigade-cli" });
}
