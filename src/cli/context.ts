/** What every command gets: output, settings, and how to find the current session and repository. */
import type { BrigadeClient } from "../sdk/client.js";
import { clientFor, loadSettings, type SessionRef, type Settings } from "./config.js";
import { CliError, isSessionGone, sessionGoneLine } from "./errors.js";
import { join } from "node:path";
import { NotAGitRepository, remoteUrl, worktreeOf, worktreeRoot } from "./git.js";
import { makeOut, type Out } from "./output.js";
import { forgetSaved, readSaved, worktreeStatePath } from "./state.js";

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
  /**
   * When `err` says the current session is over: forgets it for this worktree and returns the
   * line to show (what happened and what to do); otherwise undefined.
   */
  sessionGone(err: unknown): Promise<string | undefined>;
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
    async sessionGone(err) {
      if (!sessionPromise) return undefined;
      const s = await sessionPromise.catch(() => undefined);
      if (!s || !isSessionGone(err, Boolean(s.token))) return undefined;
      if (s.source === "worktree") forgetWorktreeSession(ctx.cwd, s.id);
      const next =
        s.source === "env"
          ? "start a new one (brigade run, or brigade session start) and unset BRIGADE_SESSION_ID"
          : "start a new one with `brigade session start` (your own token still works for everything else)";
      return `${sessionGoneLine(s.id)}; ${next}`;
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

/** Forgets the session saved for the worktree containing `cwd`, if it is `id`. */
export function forgetWorktreeSession(cwd: string, id: string): void {
  const root = worktreeOf(join(cwd, "-"));
  if (!root) return;
  const path = worktreeStatePath(root);
  if (readSaved(path)?.id === id) forgetSaved(path);
}
