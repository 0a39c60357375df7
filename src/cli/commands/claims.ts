import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { BrigadeError, isQueued, ok, type Claim, type QueueEntry } from "../../sdk/client.js";
import { checkPaths, describeOutcome } from "../check.js";
import type { Context } from "../context.js";
import { CliError, describeError, EXIT_FAILED, usageError } from "../errors.js";
import { NotAGitRepository, isDirectory, repoRelative, stagedPaths, worktreeRoot } from "../git.js";
import { describeConflict, until } from "../output.js";
import { claimSubject, cliTalk } from "../../sdk/talk.js";

export async function claim(
  ctx: Context,
  patterns: string[],
  options: { shared?: boolean; ttl?: number; warn?: boolean; queue?: boolean; maxWait?: number; reason?: string },
) {
  if (options.warn && options.queue) throw usageError("--warn and --queue exclude each other: grant anyway, or wait in line");
  if (options.maxWait !== undefined && !options.queue) throw usageError("--max-wait goes with --queue");
  const session = await ctx.requireSession();
  const client = ctx.client("session", session);
  const anchoredPatterns = await anchorExisting(ctx, patterns);
  try {
    const granted = await ok(
      client.api.POST("/v1/claims", {
        body: {
          sessionId: session.id,
          patterns: anchoredPatterns,
          mode: options.shared ? "shared" : "exclusive",
          onConflict: options.warn ? "warn" : options.queue ? "queue" : "reject",
          ...(options.reason ? { reason: options.reason } : {}),
          ...(options.ttl ? { ttlSeconds: options.ttl } : {}),
          ...(options.maxWait ? { maxWaitSeconds: options.maxWait } : {}),
        },
      }),
    );
    if (isQueued(granted)) {
      ctx.out.result(granted, () =>
        [
          `Queued for ${granted.patterns.join(" ")} in ${granted.repo}: entry ${granted.id}, position ${granted.position}, leaves the queue ${until(granted.expiresAt)}`,
          ...granted.waitingFor.map(
            (b) => `  waiting for claim ${b.claimId} of ${b.holderName}'s agent ${b.holder.agent.name}, until ${until(b.expiresAt)}`,
          ),
          "Granted automatically when they release (you are alerted: brigade alerts); brigade queue shows it, brigade queue leave <entry> stops waiting.",
        ].join("\n"),
      );
      return;
    }
    ctx.out.result(granted, () =>
      [
        `Claimed ${granted.patterns.join(" ")} (${granted.mode}) in ${granted.repo}: claim ${granted.id}, fence ${granted.fence}, until ${until(granted.expiresAt)}`,
        ...granted.conflicts.map((c) => `! granted over a conflict: ${describeConflict(c)}`),
      ].join("\n"),
    );
  } catch (err) {
    if (!(err instanceof BrigadeError) || err.code !== "claims.conflict") throw err;
    const conflicts = err.conflicts;
    if (ctx.out.json) {
      const { message, code, status } = describeError(err);
      process.stdout.write(`${JSON.stringify({ error: { code, message, status }, conflicts })}\n`);
    }
    ctx.out.note(`brigade: nothing claimed: ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"} (claims.conflict)`);
    for (const c of conflicts.slice(0, 20)) {
      ctx.out.note(`  ✗ ${describeConflict(c)}`);
      if (c.thread) ctx.out.note(`    talk it over with ${c.holderName}: ${cliTalk(c.thread, claimSubject(c.theirPattern))}`);
    }
    if (conflicts.length > 20) ctx.out.note(`  … and ${conflicts.length - 20} more (--json lists them all)`);
    ctx.out.note(`  (or wait in line with --queue: granted to you when they release; or claim anyway with --warn: both sides are alerted)`);
    return EXIT_FAILED;
  }
}

/** The session's active claims, or those of them named by id or by one of their patterns. */
async function selectClaims(
  ctx: Context,
  selectors: string[],
): Promise<{ claims: Claim[]; client: ReturnType<Context["client"]>; sessionId: string }> {
  const session = await ctx.requireSession();
  const client = ctx.client("session", session);
  const page = await ok(client.api.GET("/v1/claims", { params: { query: { session: session.id, active: "true", limit: 500 } } }));
  if (selectors.length === 0) return { claims: page.items, client, sessionId: session.id };
  const chosen = page.items.filter((c) => selectors.some((s) => c.id === s || c.patterns.includes(s)));
  const unknown = selectors.filter((s) => !page.items.some((c) => c.id === s || c.patterns.includes(s)));
  if (unknown.length) throw new CliError(`no active claim of session ${session.id} matches ${unknown.join(", ")}`);
  return { claims: chosen, client, sessionId: session.id };
}

export async function release(ctx: Context, selectors: string[], options: { note?: string } = {}) {
  const { claims, client, sessionId } = await selectClaims(ctx, selectors);
  const released = [];
  for (const c of claims)
    released.push(
      await ok(client.api.DELETE("/v1/claims/{id}", { params: { path: { id: c.id }, query: options.note ? { note: options.note } : {} } })),
    );
  ctx.out.result(
    { sessionId, released },
    released.length
      ? released.map((c) => `Released ${c.patterns.join(" ")} (claim ${c.id})`).join("\n")
      : `Session ${sessionId} holds no active claims.`,
  );
}

export async function renew(ctx: Context, selectors: string[], options: { ttl?: number }) {
  const { claims, client, sessionId } = await selectClaims(ctx, selectors);
  const renewed = [];
  for (const c of claims) {
    renewed.push(
      await ok(
        client.api.POST("/v1/claims/{id}/renew", { params: { path: { id: c.id } }, body: options.ttl ? { ttlSeconds: options.ttl } : {} }),
      ),
    );
  }
  ctx.out.result(
    { sessionId, renewed },
    renewed.length
      ? renewed.map((c) => `Renewed ${c.patterns.join(" ")} until ${until(c.expiresAt)} (claim ${c.id})`).join("\n")
      : `Session ${sessionId} holds no active claims.`,
  );
}

/**
 * A pattern that names an existing file or folder (from this folder, no wildcards) claims exactly
 * that: anchored at the repository root (`/src/auth/login.ts`), not every file of that name at
 * any depth. Anything else is a CODEOWNERS pattern, relative to the repository root.
 */
async function anchorExisting(ctx: Context, patterns: string[]): Promise<string[]> {
  let root: string | undefined;
  try {
    root = await worktreeRoot(ctx.cwd);
  } catch {
    return patterns; // --repo names another repository: patterns are taken as given
  }
  return patterns.map((p) => {
    if (/[*?\\[\]!#]/.test(p) || p.startsWith("/") || !existsSync(resolve(ctx.cwd, p))) return p;
    const rel = repoRelative(root, resolve(ctx.cwd, p));
    return rel ? `/${rel}` : p;
  });
}

/** Paths given on the command line are relative to this folder; the server wants them relative to the repository. */
async function toRepoPaths(ctx: Context, paths: string[]): Promise<string[]> {
  let root: string;
  try {
    root = await worktreeRoot(ctx.cwd);
  } catch (err) {
    if (err instanceof NotAGitRepository && ctx.options["repo"]) return paths;
    throw err;
  }
  return paths.map((p) => {
    const absolute = resolve(ctx.cwd, p);
    const rel = repoRelative(root, absolute);
    if (!rel) throw usageError(`${p} is not inside the repository at ${root}`);
    // A folder is asked about as one (`src/auth/`): the server answers for everything inside it.
    return p.endsWith("/") || isDirectory(absolute) ? `${rel}/` : rel;
  });
}

export async function who(ctx: Context, path: string) {
  const [repoPath] = await toRepoPaths(ctx, [path]);
  const session = await ctx.session();
  const repo = await ctx.repo(session);
  const owners = await ok(
    ctx.client("user", session).api.GET("/v1/repos/{repo}/owners", { params: { path: { repo }, query: { path: repoPath! } } }),
  );
  ctx.out.result(owners, () => {
    const lines = [`${owners.path} in ${owners.repo}`];
    const co = owners.codeowners;
    lines.push(
      co === null
        ? "  CODEOWNERS: none uploaded"
        : co.unowned || co.owners.length === 0
          ? `  CODEOWNERS: unowned${co.rule ? ` (line ${co.rule.line}: ${co.rule.pattern})` : ""}`
          : `  CODEOWNERS: ${co.owners.join(" ")}${co.rule ? ` (line ${co.rule.line}: ${co.rule.pattern})` : ""}`,
    );
    for (const m of owners.modules) lines.push(`  module ${m.name} (${m.matchedPattern})${m.teamId ? ` of team ${m.teamId}` : ""}`);
    for (const c of owners.claims)
      lines.push(
        `  claimed (${c.mode}) by ${c.holderName}'s agent ${c.holder.agent.name}, pattern ${c.pattern}, until ${until(c.expiresAt)} (claim ${c.claimId}, session ${c.holder.sessionId}); ask for it: brigade handoff ${c.claimId} --reason "…"`,
      );
    if (owners.claims.length === 0) lines.push("  no live claims");
    return lines.join("\n");
  });
}

export async function check(ctx: Context, paths: string[], options: { staged?: boolean }) {
  if (options.staged && paths.length) throw usageError("give paths or --staged, not both");
  if (!options.staged && paths.length === 0) throw usageError("check needs paths, or --staged");
  const session = await ctx.session();
  const [repoPaths, repo] = await Promise.all([options.staged ? stagedPaths(ctx.cwd) : toRepoPaths(ctx, paths), ctx.repo(session)]);
  if (repoPaths.length === 0) {
    ctx.out.result({ repo, checked: 0, violations: [], notices: [] }, "Nothing staged.");
    return 0;
  }
  const outcome = await checkPaths(ctx.client("session", session), {
    repo,
    paths: repoPaths,
    sessionId: session?.id,
    userId: ctx.settings().user?.id,
  });
  ctx.out.result(outcome, () => describeOutcome(outcome, options.staged ? "staged file" : "path").join("\n"));
  return outcome.violations.length > 0 ? EXIT_FAILED : 0;
}

export async function handoffRequest(ctx: Context, claimId: string, options: { reason: string }) {
  const session = await ctx.requireSession();
  const handoff = await ok(
    ctx
      .client("session", session)
      .api.POST("/v1/claims/{id}/handoff", { params: { path: { id: claimId } }, body: { sessionId: session.id, reason: options.reason } }),
  );
  ctx.out.result(handoff, () =>
    [
      `Asked the holder of claim ${claimId} to hand it over (handoff ${handoff.id}, ${handoff.status}); you will get an alert when they answer`,
      ...(handoff.thread ? [`Talk it over with them: ${cliTalk(handoff.thread, `Handing over claim ${claimId}`)}`] : []),
    ].join("\n"),
  );
}

export async function handoffAnswer(
  ctx: Context,
  handoffId: string,
  answer: "accept" | "decline" | "defer",
  options: { eta?: number; note?: string },
) {
  if (answer !== "defer" && options.eta) throw usageError("--eta goes with defer");
  const session = await ctx.session();
  const handoff = await ok(
    ctx.client("session", session).api.POST("/v1/handoffs/{id}/answer", {
      params: { path: { id: handoffId } },
      body: { answer, ...(options.eta ? { etaSeconds: options.eta } : {}), ...(options.note ? { note: options.note } : {}) },
    }),
  );
  ctx.out.result(
    handoff,
    `Handoff ${handoff.id}: ${handoff.status}${handoff.grantedClaimId ? ` (transferred: the requester now holds claim ${handoff.grantedClaimId})` : ""}${handoff.eta ? `, expected ${until(handoff.eta)}` : ""}`,
  );
}

/** One queue entry, as `brigade queue` prints it. */
function queueLine(q: QueueEntry): string {
  if (q.status !== "waiting")
    return `${q.id}  ${q.patterns.join(" ")}  ${q.status.replace(/_/g, " ")}${q.grantedClaimId ? ` (claim ${q.grantedClaimId})` : ""}`;
  const blockers = q.waitingFor.map((b) => `claim ${b.claimId} (${b.holderName}'s agent ${b.holder.agent.name})`);
  return `${q.id}  ${q.patterns.join(" ")}  position ${q.position}, waiting for ${blockers.length ? blockers.join(", ") : "earlier waiters"}, leaves ${until(q.expiresAt)}`;
}

export async function queueList(ctx: Context, options: { all?: boolean }) {
  const session = await ctx.requireSession();
  const client = ctx.client("session", session);
  const list = await ok(
    client.api.GET("/v1/claims/queue", { params: { query: { session: session.id, status: options.all ? "all" : "waiting" } } }),
  );
  ctx.out.result(
    { sessionId: session.id, items: list.items },
    list.items.length ? list.items.map(queueLine).join("\n") : `Session ${session.id} waits in no queue.`,
  );
}

export async function queueLeave(ctx: Context, entry: string) {
  const session = await ctx.requireSession();
  const client = ctx.client("session", session);
  const left = await ok(client.api.DELETE("/v1/claims/queue/{id}", { params: { path: { id: entry } } }));
  ctx.out.result(left, queueLine(left));
}
