import { hostname } from "node:os";
import { ok, type BrigadeClient, type StartedSession } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import { currentBranch, remoteUrl, worktreeRoot } from "../git.js";
import { shortId, until } from "../output.js";
import { forgetSaved, readSaved, worktreeStatePath, writeSaved } from "../state.js";
import { sendTreeIfChanged } from "../trees.js";

export interface StartOptions {
  agent?: string;
  kind?: string;
  task?: string;
  ttl?: number;
  repo?: string;
}

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function defaultAgentName(ctx: Context, fallback: string): string {
  const name = ctx.settings().agent ?? fallback;
  return AGENT_NAME.test(name) ? name : fallback;
}

/** Registers a session for the repository in `cwd` (remote, branch, worktree, host). */
export async function startSessionHere(
  client: BrigadeClient,
  cwd: string,
  options: StartOptions & { agent: string; kind: string },
): Promise<{ started: StartedSession; worktree: string | undefined }> {
  let worktree: string | undefined;
  let branch: string | undefined;
  let repo = options.repo;
  if (!repo) {
    [worktree, repo, branch] = await Promise.all([worktreeRoot(cwd), remoteUrl(cwd), currentBranch(cwd)]);
  } else {
    try {
      [worktree, branch] = await Promise.all([worktreeRoot(cwd), currentBranch(cwd)]);
    } catch {
      // --repo names the repository; this folder need not be a clone of it.
    }
  }
  const started = await ok(
    client.api.POST("/v1/sessions", {
      body: {
        agent: { name: options.agent, kind: options.kind },
        repo,
        ...(branch ? { branch } : {}),
        ...(worktree ? { worktree } : {}),
        host: hostname().slice(0, 255) || "unknown",
        ...(options.task ? { task: options.task } : {}),
        ...(options.ttl ? { ttlSeconds: options.ttl } : {}),
      },
    }),
  );
  return { started, worktree };
}

export async function start(ctx: Context, options: StartOptions & { save?: boolean }) {
  const client = ctx.client("user");
  const agent = options.agent ?? defaultAgentName(ctx, "cli");
  if (!AGENT_NAME.test(agent)) throw new CliError(`--agent must be letters, digits, '.', '_' or '-', got ${JSON.stringify(agent)}`, 2);
  const { started, worktree } = await startSessionHere(client, ctx.cwd, { ...options, agent, kind: options.kind ?? "custom" });
  const s = started.session;
  const saved = options.save !== false && worktree !== undefined;
  // The file list lets the server tell real overlaps from latent ones; a failure here costs only that.
  let treeId: string | undefined;
  let treeNote = "";
  if (worktree !== undefined)
    treeId = await sendTreeIfChanged(client.withToken(started.token), worktree, { repo: s.repo, sessionId: s.id }).catch((err: unknown) => {
      treeNote = `The repository's file list was not sent (${err instanceof Error ? err.message : String(err)}): overlaps are not classified real or latent.`;
      return undefined;
    });
  if (saved)
    writeSaved(worktreeStatePath(worktree!), { id: s.id, token: started.token, repo: s.repo, server: client.baseUrl, worktree, treeId });
  ctx.out.result({ ...started, savedFor: saved ? worktree : null }, () =>
    [
      `Session ${s.id} started: ${s.agent.name} on ${s.repo}${s.branch ? ` (${s.branch})` : ""}, lease until ${until(s.expiresAt)}`,
      saved ? `Remembered for ${worktree}: brigade commands run there act for it. End it with \`brigade session end\`.` : "",
      `Kept alive by use: every brigade command and git hook acting for it extends its ${s.ttlSeconds} s lease. ` +
        "Idle longer and it lapses (its claims are released, and the next command says so); " +
        "`brigade session heartbeat` extends it by hand, `brigade run -- <command>` keeps a session alive while the command runs.",
      `For another shell: export BRIGADE_SESSION_ID=${s.id} BRIGADE_SESSION_TOKEN=${started.token}`,
      treeNote,
    ]
      .filter(Boolean)
      .join("\n"),
  );
}

async function sessionId(ctx: Context, id: string | undefined) {
  if (id)
    return {
      id,
      ref: { id, source: "flag" as const, token: ctx.settings().envSession?.id === id ? ctx.settings().envSession?.token : undefined },
    };
  const ref = await ctx.requireSession();
  return { id: ref.id, ref };
}

export async function heartbeat(
  ctx: Context,
  id: string | undefined,
  options: { activity?: "working" | "idle" | "waiting" | "blocked"; task?: string },
) {
  const { id: sid, ref } = await sessionId(ctx, id);
  const result = await ok(
    ctx.client("session", ref).api.POST("/v1/sessions/{id}/heartbeat", {
      params: { path: { id: sid } },
      body: { ...(options.activity ? { activity: options.activity } : {}), ...(options.task ? { task: options.task } : {}) },
    }),
  );
  ctx.out.result(result, `Session ${sid}: lease until ${until(result.expiresAt)}`);
}

export async function end(ctx: Context, id: string | undefined) {
  const { id: sid, ref } = await sessionId(ctx, id);
  const ended = await ok(ctx.client("session", ref).api.DELETE("/v1/sessions/{id}", { params: { path: { id: sid } } }));
  // Forget it wherever this worktree remembered it.
  try {
    const root = await worktreeRoot(ctx.cwd);
    const path = worktreeStatePath(root);
    if (readSaved(path)?.id === sid) forgetSaved(path);
  } catch {
    // Not in a worktree: nothing remembered here.
  }
  ctx.out.result(ended, `Session ${sid} ended (${ended.status}); its claims are released`);
}

export async function list(ctx: Context, options: { here?: boolean; repo?: string; all?: boolean }) {
  const repo = options.repo ?? (options.here ? await remoteUrl(ctx.cwd) : undefined);
  const page = await ok(
    ctx.client("user").api.GET("/v1/sessions", {
      params: { query: { ...(repo ? { repo } : {}), ...(options.all ? {} : { active: "true" }), limit: 200 } },
    }),
  );
  ctx.out.result(page, () => {
    if (page.items.length === 0) return "No sessions.";
    return page.items
      .map(
        (s) =>
          `${s.id}  ${s.status.padEnd(7)} ${s.agent.name.padEnd(16)} ${s.repo}${s.branch ? `@${s.branch}` : ""}  ${s.task ?? ""}  (lease until ${until(s.expiresAt)}, …${shortId(s.userId)})`,
      )
      .join("\n");
  });
}
