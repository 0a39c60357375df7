/**
 * The git guards (`brigade hook pre-commit`, `brigade hook pre-push`, called by the scripts
 * `brigade hooks install` writes).
 *
 * - A path inside another session's exclusive claim blocks (exit 1), with who holds it, until
 *   when, and how to ask for it; a shared claim (or, with no session, a claim of one of your own
 *   sessions) is a warning.
 * - BRIGADE_GUARD: `off` skips the check (so does `git commit --no-verify`), `warn` reports
 *   violations without blocking, `strict` also blocks when Brigade cannot be asked.
 * - When Brigade cannot be asked (server down, bad token, no config, no remote), the guard lets
 *   the commit or push through and says so on stderr, unless BRIGADE_GUARD=strict.
 */
import { BrigadeError } from "../../sdk/client.js";
import { checkPaths, describeOutcome, type CheckOutcome } from "../check.js";
import { clientFor } from "../config.js";
import type { Context } from "../context.js";
import { forgetWorktreeSession } from "../context.js";
import { CliError, describeError, EXIT_FAILED, isSessionGone, sessionGoneLine } from "../errors.js";
import { pushedPaths, stagedPaths } from "../git.js";
import { readStdin } from "./stdin.js";

const HOOK_TIMEOUT_MS = 5_000;

async function guard(ctx: Context, what: "commit" | "push", paths: () => Promise<string[]>, repoOverride?: string): Promise<number> {
  const settings = ctx.settings();
  const mode = settings.guard ?? "on";
  if (mode === "off" || mode === "0" || mode === "false") return 0;
  let outcome: CheckOutcome;
  try {
    const session = await ctx.session();
    const [list, repo] = await Promise.all([paths(), repoOverride ? Promise.resolve(repoOverride) : ctx.repo(session)]);
    if (list.length === 0) return 0;
    const hookSettings = { ...settings, timeoutMs: Math.min(settings.timeoutMs, HOOK_TIMEOUT_MS) };
    try {
      outcome = await checkPaths(clientFor(hookSettings, "session", session), {
        repo,
        paths: list,
        sessionId: session?.id,
        userId: settings.user?.id,
      });
    } catch (err) {
      // The session is over, but the others' claims still stand: check them with the user's own
      // token, as for a commit made with no session. Only an unreachable server goes unchecked.
      if (!session || !isSessionGone(err, Boolean(session.token))) throw err;
      if (session.source === "worktree") forgetWorktreeSession(ctx.cwd, session.id);
      if (!settings.token) {
        throw new CliError(`${sessionGoneLine(session.id)}, and there is no personal token to check with (run \`brigade login\`)`);
      }
      ctx.out.note(`brigade: ${sessionGoneLine(session.id)}; checking with your own token (brigade session start opens a new one)`);
      outcome = await checkPaths(clientFor(hookSettings, "user"), { repo, paths: list, userId: settings.user?.id });
    }
  } catch (err) {
    const reason = describeError(err).message;
    const unanswered =
      err instanceof BrigadeError
        ? err.unreachable
          ? "Brigade could not be reached"
          : "Brigade refused the check"
        : "Brigade could not be asked";
    if (mode === "strict") {
      ctx.out.note(`brigade: ${reason}`);
      ctx.out.note(`brigade: ${what} blocked: ${unanswered} and BRIGADE_GUARD=strict (BRIGADE_GUARD=off to bypass)`);
      return EXIT_FAILED;
    }
    ctx.out.note(`brigade: warning: ${reason}; this ${what} was NOT checked against claims`);
    return 0;
  }
  const lines = describeOutcome(outcome, what === "commit" ? "staged file" : "pushed file");
  if (outcome.violations.length === 0) {
    if (outcome.notices.length) for (const l of lines) ctx.out.note(`brigade: ${l}`);
    return 0;
  }
  for (const l of lines) ctx.out.note(`brigade: ${l}`);
  if (mode === "warn") {
    ctx.out.note(`brigade: BRIGADE_GUARD=warn: the ${what} goes ahead anyway`);
    return 0;
  }
  ctx.out.note(`brigade: ${what} blocked. Bypass once with BRIGADE_GUARD=off git ${what} … (or git ${what} --no-verify)`);
  return EXIT_FAILED;
}

export async function preCommit(ctx: Context): Promise<number> {
  return guard(ctx, "commit", () => stagedPaths(ctx.cwd));
}

export async function prePush(ctx: Context, remote: string | undefined, url: string | undefined): Promise<number> {
  const updates = await readStdin();
  // The remote being pushed to names the repository, whatever this clone's origin is.
  const repoUrl = url && !url.startsWith("/") && !url.startsWith(".") && !url.startsWith("file:") ? url : undefined;
  return guard(ctx, "push", () => pushedPaths(ctx.cwd, updates, remote ?? "origin"), repoUrl);
}
