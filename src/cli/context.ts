/** What every command gets: output, settings, and how to find the current session and repository. */
import type { BrigadeClient } from "../sdk/client.js";
import { clientFor, loadSettings, type SessionRef, type Settings } from "./config.js";
import { CliError } from "./errors.js";
import { NotAGitRepository, remoteUrl, worktreeRoot } from "./git.js";
import { makeOut, type Out } from "./output.js";
import { readSaved, worktreeStatePath } from "./state.js";

/** A command: its positional arguments, then its options; resolves to the exit code (default 0). */
// Commander hands each action its own argument list; an action that returns nothing exits 0.
// biome-ignore lint/suspicious/noExplicitAny: see above
// biome-ignore lint/suspicious/noConfusingVoidType: see above
export type Handler = (ctx: Context, ...args: any[]) => Promise<number | void>;

export interface Context {
  out: Out;
  options: Record<string, unknown>;
  cwd: string;
  settings(): Settings;
  client(as?: "user" | "session", session?: SessionRef): BrigadeClient;
  /** The current session: --session, BRIGADE_SESSION_ID, or the one saved for this worktree. */
  session(): Promise<SessionRef | undefined>;
  requireSession(): Promise<SessionRef>;
  /** The repository: --repo, the session's, or this folder's git remote. */
  repo(session?: SessionRef): Promise<string>;
}

export function makeContext(options: Record<string, unknown>): Context {
  let settings: Settings | undefined;
  let sessionPromise: Promise<SessionRef | undefined> | undefined;
  const ctx: Context = {
    out: makeOut(Boolean(options["json"])),
    options,
    cwd: process.cwd(),
    settings: () => (settings ??= loadSettings()),
    client: (as = "user", session) => clientFor(ctx.settings(), as, session),
    session: () => (sessionPromise ??= findSession(ctx)),
    async requireSession() {
      const s = await ctx.session();
      if (!s) {
        throw new CliError(
          "no current session: run this inside `brigade run`, after `brigade session start`, or pass --session (or set BRIGADE_SESSION_ID)",
        );
      }
      return s;
    },
    async repo(session) {
      const flag = options["repo"];
      if (typeof flag === "string" && flag) return flag;
      if (session?.repo) return session.repo;
      return remoteUrl(ctx.cwd);
    },
  };
  return ctx;
}

async function findSession(ctx: Context): Promise<SessionRef | undefined> {
  const settings = ctx.settings();
  const flag = ctx.options["session"];
  if (typeof flag === "string" && flag) {
    const token = settings.envSession?.id === flag ? settings.envSession.token : undefined;
    return { id: flag, token, source: "flag" };
  }
  if (settings.envSession) return settings.envSession;
  let root: string;
  try {
    root = await worktreeRoot(ctx.cwd);
  } catch (err) {
    if (err instanceof NotAGitRepository) return undefined;
    throw err;
  }
  const saved = readSaved(worktreeStatePath(root));
  if (!saved || (settings.server && saved.server !== settings.server)) return undefined;
  return { id: saved.id, token: saved.token, repo: saved.repo, source: "worktree" };
}
