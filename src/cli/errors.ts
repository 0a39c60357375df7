/** How the CLI fails: one line on stderr and an exit code, never a stack trace. */
import type { BrigadeError } from "../sdk/client.js";

export const EXIT_OK = 0;
/** Failed, or blocked (a check found violations). */
export const EXIT_FAILED = 1;
/** Usage: unknown command or option, missing argument, invalid value. */
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
    readonly code: string = exitCode === EXIT_USAGE ? "cli.usage" : "cli.failed",
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, EXIT_USAGE, "cli.usage");

function isBrigadeError(err: unknown): err is BrigadeError {
  return err instanceof Error && err.name === "BrigadeError";
}

/**
 * Whether a request made for a session failed because that session is over (ended, expired,
 * or its token revoked with it), as opposed to the server being unreachable or the request
 * being wrong. `withSessionToken`: the request carried the session's own token, so a refused
 * token means the session is gone.
 */
export function isSessionGone(err: unknown, withSessionToken: boolean): boolean {
  if (!isBrigadeError(err) || err.unreachable) return false;
  if (err.code === "sessions.not_active" || err.code === "sessions.not_found") return true;
  return withSessionToken && err.status === 401 && (err.code === "auth.token_revoked" || err.code === "auth.token_expired");
}

/** The plain line a person reads when their session is over. */
export const sessionGoneLine = (id: string) =>
  `your Brigade session ${id} has ended or expired (its lease ran out or it was ended), so its claims are released`;

/** One line saying what went wrong and, where there is one, what to do about it. */
export function describeError(err: unknown): { message: string; code: string; exitCode: number; status?: number } {
  if (err instanceof CliError) return { message: err.message, code: err.code, exitCode: err.exitCode };
  if (isBrigadeError(err)) {
    if (err.unreachable) return { message: err.detail, code: err.code, exitCode: EXIT_FAILED, status: 0 };
    if (err.status === 401) {
      return {
        message: `the server refused the token: ${err.detail} (${err.code}); run \`brigade login\` or set BRIGADE_TOKEN${err.code === "auth.token_revoked" || err.code === "auth.token_expired" ? " (a session's token stops working when its session ends: start a new one)" : ""}`,
        code: err.code,
        exitCode: EXIT_FAILED,
        status: 401,
      };
    }
    const fields = err.errors.length ? ` [${err.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")}]` : "";
    const detail = err.errors.length && err.detail.includes(err.errors[0]!.reason) ? err.detail : `${err.detail}${fields}`;
    return { message: `${detail} (${err.code})`, code: err.code, exitCode: EXIT_FAILED, status: err.status };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${message.split("\n")[0]}`, code: "cli.internal", exitCode: EXIT_FAILED };
}

/** Reports an error the CLI way; returns the exit code. */
export function fail(err: unknown, json: boolean): number {
  const { message, code, exitCode, status } = describeError(err);
  if (process.env["BRIGADE_DEBUG"] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.stderr.write(`brigade: ${message}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(status !== undefined ? { status } : {}) } })}\n`);
  return exitCode;
}
