/**
 * `brigade run -- <command…>`: a session around a command. Registered first (the repository
 * in this folder), heartbeated while the command runs, ended when it exits; the command gets
 * BRIGADE_SESSION_ID, BRIGADE_SESSION_TOKEN and BRIGADE_URL, and its exit status is ours.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { ok, type BrigadeError } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { CliError, usageError } from "../errors.js";
import { defaultAgentName, startSessionHere, type StartOptions } from "./session.js";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export async function run(ctx: Context, command: string[], options: StartOptions & { allowOffline?: boolean }): Promise<number> {
  if (command.length === 0) throw usageError("run needs a command: brigade run [options] -- <command…>");
  const client = ctx.client("user");
  const agent = options.agent ?? defaultAgentName(ctx, "agent");
  let session: { id: string; token: string; ttlSeconds: number; repo: string } | null = null;
  try {
    const { started } = await startSessionHere(client, ctx.cwd, { ...options, agent, kind: options.kind ?? "custom" });
    session = { id: started.session.id, token: started.token, ttlSeconds: started.session.ttlSeconds, repo: started.session.repo };
  } catch (err) {
    const unreachable = err instanceof Error && err.name === "BrigadeError" && (err as BrigadeError).unreachable;
    if (!(options.allowOffline && unreachable)) {
      if (unreachable)
        throw new CliError(`${(err as BrigadeError).detail}; the command was not run (pass --allow-offline to run it without a session)`);
      throw err;
    }
    ctx.out.note(`brigade: ${(err as BrigadeError).detail}; running without a session (--allow-offline): nothing is claimed or checked`);
  }
  if (session && !ctx.out.json) ctx.out.note(`brigade: session ${session.id} (${agent} on ${session.repo}) until the command exits`);

  const env: NodeJS.ProcessEnv = { ...process.env, BRIGADE_URL: client.baseUrl };
  if (session) Object.assign(env, { BRIGADE_SESSION_ID: session.id, BRIGADE_SESSION_TOKEN: session.token });
  const sessionClient = session ? client.withToken(session.token) : null;

  let heartbeatFailed = false;
  const timer = session
    ? setInterval(
        () => {
          ok(sessionClient!.api.POST("/v1/sessions/{id}/heartbeat", { params: { path: { id: session!.id } }, body: {} })).then(
            () => (heartbeatFailed = false),
            (err: Error) => {
              if (!heartbeatFailed) ctx.out.note(`brigade: heartbeat failed (${err.message}); retrying`);
              heartbeatFailed = true;
            },
          );
        },
        Math.max(1_000, (session.ttlSeconds * 1000) / 3),
      )
    : null;

  const child = spawn(command[0]!, command.slice(1), { stdio: "inherit", env });
  // A terminal delivers Ctrl-C to the whole foreground group, the child included: forwarding
  // it too would make it arrive twice. Signals sent to this process alone are forwarded.
  const fromTerminal = process.stdin.isTTY;
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal === "SIGINT" && fromTerminal) return;
    child.kill(signal);
  };
  const listeners = FORWARDED.map((s) => [s, forward(s)] as const);
  for (const [s, l] of listeners) process.on(s, l);

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  for (const [s, l] of listeners) process.off(s, l);
  if (timer) clearInterval(timer);

  if (session) {
    try {
      await ok(sessionClient!.api.DELETE("/v1/sessions/{id}", { params: { path: { id: session.id } } }));
    } catch (err) {
      ctx.out.note(`brigade: could not end session ${session.id} (${(err as Error).message}); it expires with its lease`);
    }
  }
  if (outcome.error) {
    const what = outcome.error.code === "ENOENT" ? "command not found" : outcome.error.message;
    ctx.out.note(`brigade: ${what}: ${command[0]}`);
    return outcome.error.code === "ENOENT" ? 127 : 126;
  }
  if (outcome.signal) return 128 + (constants.signals[outcome.signal] ?? 0);
  return outcome.code ?? 1;
}
