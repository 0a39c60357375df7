/**
 * Claude Code hooks (installed by `brigade hooks install --agent claude-code`). Each reads the
 * hook's JSON from stdin and answers in the form Claude Code's hooks reference defines: exit 0
 * with a JSON object on stdout (`hookSpecificOutput` with `permissionDecision` for PreToolUse,
 * `additionalContext` for context, `systemMessage` for a warning shown to the user).
 *
 * Safe defaults, so Brigade never silently blocks all work nor silently allows what it would
 * have blocked:
 * - an edit inside another session's exclusive claim is denied, with who holds it, until when,
 *   and how to ask for a handoff (the reason goes to the agent);
 * - when Brigade cannot answer (server down, token refused, not configured, no remote) the
 *   edit is allowed with a visible warning (`systemMessage` to the user, `additionalContext`
 *   to the agent); BRIGADE_GUARD=strict denies instead, BRIGADE_GUARD=off skips the check;
 * - a file outside any git repository is allowed silently (Brigade has nothing to say);
 * - a tool the hook does not know is allowed with a warning naming it;
 * - input that is not the hook JSON Claude Code sends: one line on stderr and exit 1, which
 *   Claude Code reports as a hook error and does not block on.
 */
import { hostname } from "node:os";
import { appendFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BrigadeError, ok, type BrigadeClient, type Schemas, type StartedSession } from "../../sdk/client.js";
import { checkPaths, type CheckOutcome } from "../check.js";
import { refreshSavedTree } from "../trees.js";
import { clientFor, type SessionRef, type Settings } from "../config.js";
import type { Context } from "../context.js";
import { CliError, describeError, EXIT_FAILED, isSessionGone, sessionGoneLine } from "../errors.js";
import { currentBranch, remoteUrl, repoRelative, worktreeOf } from "../git.js";
import { holderText, until } from "../output.js";
import { changedSince, dirtyFiles, fingerprint, type Fingerprints } from "../changes.js";
import {
  agentStatePath,
  forgetSaved,
  forgetSnapshots,
  readSaved,
  readSnapshot,
  snapshotPath,
  writeSaved,
  writeSnapshot,
  type SavedSession,
  type WorktreeSnapshot,
} from "../state.js";
import { EDIT_TOOL_FIELDS, editedFile } from "./edit-tools.js";
import { readStdin } from "./stdin.js";
import { claimSubject, talkOffer } from "../../sdk/talk.js";
import { matches } from "../../patterns/index.js";

const AGENT = "claude-code";
const HOOK_TIMEOUT_MS = 3_000;
/** How long the Bash hook lets `git status` run. */
const GIT_TIMEOUT_MS = 4_000;
/** Changed files reported per request (the hook endpoint's bound), and per command. */
const PATHS_PER_REPORT = 1_000;
const MAX_REPORTED_PATHS = 5_000;
const LEASE_SECONDS = 3_600;

interface HookInput {
  session_id?: string;
  cwd?: string;
  hook_event_name?: string;
  tool_name?: string;
  tool_input?: Record<string, unknown>;
  source?: string;
  prompt?: string;
}

const emit = (output: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(output)}\n`);

async function readHookInput(event: string): Promise<HookInput> {
  if (process.stdin.isTTY) throw new CliError(`hook ${event} reads the JSON Claude Code sends on stdin; it is not meant to be run by hand`);
  return parseHookInput(event, await readStdin());
}

function parseHookInput(event: string, text: string): HookInput {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new CliError(
      `hook ${event}: the input is not JSON (${text.trim() ? `${text.trim().slice(0, 40)}…` : "empty"}); nothing was checked`,
    );
  }
  if (!input || typeof input !== "object" || Array.isArray(input))
    throw new CliError(`hook ${event}: the input is not a JSON object; nothing was checked`);
  return input as HookInput;
}

function hookSettings(ctx: Context): Settings {
  const s = ctx.settings();
  return { ...s, timeoutMs: Math.min(s.timeoutMs, HOOK_TIMEOUT_MS) };
}

/** The session these hooks act for: `brigade run`'s (environment), else the one SessionStart opened. */
function hookSession(settings: Settings, input: HookInput): { ref?: SessionRef; statePath?: string; saved?: SavedSession } {
  if (settings.envSession) return { ref: settings.envSession };
  if (!input.session_id) return {};
  const statePath = agentStatePath(AGENT, input.session_id);
  const saved = readSaved(statePath);
  if (!saved || (settings.server && saved.server !== settings.server)) return { statePath };
  return { ref: { id: saved.id, token: saved.token, repo: saved.repo, source: "agent-hook" }, statePath, saved };
}

const guardMode = (settings: Settings) => settings.guard ?? "on";

// ── PreToolUse ───────────────────────────────────────────────────────────────

function denyReason(path: string, repo: string, v: CheckOutcome["violations"][number]["claim"]): string {
  return (
    `Brigade: ${path} is inside an exclusive claim of ${holderText(v)} in ${repo} — ` +
    `pattern ${v.pattern}${v.reason ? `, reason "${v.reason}"` : ""}, until ${until(v.expiresAt)} (claim ${v.claimId}, session ${v.holder.sessionId}). ` +
    "Do not edit it now: work on something else, wait for the claim to end, or ask the holder to hand it over " +
    `(MCP tool request_handoff with claimId ${v.claimId}, or \`brigade handoff ${v.claimId} --reason "…"\`) and continue when the answer arrives.`
  );
}

/**
 * Whether the session already waits in the claim queue for the path, as a sentence: the entry
 * and its place, or the offer to queue. Best effort: without an answer, nothing is said.
 */
async function queueOffer(client: BrigadeClient, sessionId: string | undefined, path: string): Promise<string | null> {
  const offer =
    `Or wait in line for it: MCP claim_paths with onConflict "queue", or \`brigade claim ${path} --queue\`; ` +
    "Brigade grants it to you automatically, first come first served, when the holder releases, and tells you.";
  if (!sessionId) return offer;
  try {
    const { data } = await client.api.GET("/v1/claims/queue", { params: { query: { session: sessionId } } });
    const entry = data?.items.find((q) => q.patterns.some((p) => matches(p, path)));
    if (!data) return offer;
    return entry
      ? `You already wait in the queue for it (entry ${entry.id}, position ${entry.position}): Brigade grants it to you when the holder releases, and tells you.`
      : offer;
  } catch {
    return null;
  }
}

function allowWithWarning(warning: string) {
  emit({
    systemMessage: `brigade: ${warning}`,
    hookSpecificOutput: { hookEventName: "PreToolUse", additionalContext: `Brigade warning: ${warning}` },
  });
  return 0;
}

function cannotCheck(settings: Settings, reason: string): number {
  if (guardMode(settings) === "strict") {
    emit({
      systemMessage: `brigade: ${reason}; edit denied (BRIGADE_GUARD=strict)`,
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: `Brigade could not check this edit against other sessions' claims (${reason}) and BRIGADE_GUARD=strict denies unchecked edits. Tell the user.`,
      },
    });
    return 0;
  }
  return allowWithWarning(`${reason}; the edit was allowed WITHOUT a claim check`);
}

/** A refused or unanswered check, by the guard mode: allowed with a warning, or denied when strict. */
export const cannotCheckEdit = (ctx: Context, reason: string) => cannotCheck(hookSettings(ctx), reason);

/**
 * The pre-edit hook's whole path (edit-guard.ts takes the common case in one request): the hook
 * input as read by the fast path (`null`: not read yet, read it from stdin), checked with the
 * SDK client, and everything the fast path leaves here — a session that has ended (reopened),
 * `brigade run`'s session, no saved session, a server that cannot check.
 */
export async function checkEditText(ctx: Context, text: string | null): Promise<number> {
  const input = text === null ? await readHookInput("pre-edit") : parseHookInput("pre-edit", text);
  if (input.hook_event_name !== undefined && input.hook_event_name !== "PreToolUse") {
    throw new CliError(`hook pre-edit expects a PreToolUse event, got ${JSON.stringify(input.hook_event_name)}; nothing was checked`);
  }
  if (typeof input.tool_name !== "string" || !input.tool_input || typeof input.tool_input !== "object") {
    throw new CliError("hook pre-edit: the input has no tool_name and tool_input; nothing was checked");
  }
  const settings = hookSettings(ctx);
  if (guardMode(settings) === "off") return 0;
  const { known, file: filePath } = editedFile(input.tool_name, input.tool_input);
  if (!known)
    return allowWithWarning(
      `pre-edit does not know the tool ${input.tool_name}, so it was not checked (it checks ${Object.keys(EDIT_TOOL_FIELDS).join(", ")})`,
    );
  if (typeof filePath !== "string" || !filePath)
    throw new CliError(`hook pre-edit: ${input.tool_name} input has no file path; nothing was checked`);

  const absolute = resolve(input.cwd ?? ctx.cwd, filePath);
  const root = worktreeOf(absolute);
  const path = root ? repoRelative(root, absolute) : undefined;
  if (!root || !path) return 0; // outside any repository: nothing of Brigade's to protect

  if (!settings.server || (!settings.token && !settings.envSession?.token)) {
    return cannotCheck(settings, "Brigade is not configured (run `brigade login --server URL --token TOKEN`)");
  }
  let { ref, statePath, saved } = hookSession(settings, input);
  let outcome: CheckOutcome;
  let client: BrigadeClient;
  const notes: string[] = [];
  const warnings: string[] = [];
  try {
    client = clientFor(settings, "session", ref);
    const repo = ref?.repo ?? (await remoteUrl(root));
    try {
      outcome = await checkPaths(client, { repo, paths: [path], sessionId: ref?.id, userId: settings.user?.id });
    } catch (err) {
      if (!ref || !isSessionGone(err, Boolean(ref.token))) throw err;
      const next = await afterSessionGone(settings, ref, statePath, root, input.session_id);
      ({ ref, saved } = next);
      notes.push(next.toAgent);
      warnings.push(next.toPerson);
      client = clientFor(settings, ref ? "session" : "user", ref);
      outcome = await checkPaths(client, { repo, paths: [path], sessionId: ref?.id, userId: settings.user?.id });
    }
  } catch (err) {
    return cannotCheck(settings, describeError(err).message);
  }

  const violation = outcome.violations[0];
  if (violation) {
    emit({
      systemMessage: [
        ...warnings.map((w) => `brigade: ${w}`),
        `brigade: blocked an edit of ${path}: claimed by ${holderText(violation.claim)} (${violation.claim.pattern}) until ${until(violation.claim.expiresAt)}`,
      ].join("\n"),
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: [
          ...notes,
          denyReason(path, outcome.repo, violation.claim),
          ...[await queueOffer(client, ref?.id, path)].filter((x): x is string => x !== null),
          ...(violation.claim.thread ? [talkOffer(violation.claim.thread, claimSubject(violation.claim.pattern))] : []),
        ].join(" "),
      },
    });
    return 0;
  }

  notes.push(
    ...outcome.notices.map(
      (n) =>
        `${path} is inside ${n.claim.mode === "shared" ? "a shared" : "an exclusive"} claim (${n.claim.pattern}) of ${holderText(n.claim)} until ${until(n.claim.expiresAt)} (claim ${n.claim.claimId}); coordinate before large changes.`,
    ),
  );
  if (ref) {
    const sessionClient = client;
    const work: Promise<unknown>[] = [
      ok(sessionClient.api.POST("/v1/sessions/{id}/touches", { params: { path: { id: ref.id } }, body: { paths: [path] } })).then(
        (touched) => {
          for (const c of touched.conflicts) {
            if (c.kind === "touch")
              notes.push(
                `${c.path} is also being edited by ${c.otherName}'s agent ${c.agent} (session ${c.otherSessionId}); both sides were alerted — coordinate to avoid a merge conflict.`,
              );
          }
        },
        () => undefined, // the check already answered; a lost touch report only loses the record
      ),
    ];
    if (saved && statePath && Date.now() - (saved.heartbeatAt ?? 0) > ((saved.ttlSeconds ?? LEASE_SECONDS) * 1000) / 4) {
      work.push(heartbeatSaved(sessionClient, statePath, saved).catch(() => undefined));
    }
    await Promise.all(work);
  }
  if (notes.length || warnings.length)
    emit({
      ...(warnings.length ? { systemMessage: warnings.map((w) => `brigade: ${w}`).join("\n") } : {}),
      hookSpecificOutput: { hookEventName: "PreToolUse", additionalContext: `Brigade: ${notes.join(" ")}` },
    });
  return 0;
}

/**
 * The hooks' session is over (its lease ran out while the agent was idle, or it was ended).
 * With a personal token, a fresh session is opened for the same agent and the hooks carry on;
 * under `brigade run` (whose session it was) the check goes on with the personal token alone.
 * Either way the agent and the person are told, once each, in plain words.
 */
async function afterSessionGone(
  settings: Settings,
  gone: SessionRef,
  statePath: string | undefined,
  root: string,
  clientSessionId: string | undefined,
): Promise<{ ref?: SessionRef; saved?: SavedSession; toAgent: string; toPerson: string }> {
  if (statePath) forgetSaved(statePath);
  if (!settings.token) {
    throw new CliError(`${sessionGoneLine(gone.id)}, and there is no personal token to go on with (run \`brigade login\`)`);
  }
  if (gone.source === "agent-hook" && statePath) {
    const saved = await openSession(clientFor(settings, "user"), settings, root, statePath, clientSessionId);
    exportToClaudeEnv(settings, saved);
    return {
      ref: { id: saved.id, token: saved.token, repo: saved.repo, source: "agent-hook" },
      saved,
      toAgent: `Your Brigade session ${gone.id} had ended (its lease ran out or it was ended), so its claims were released. Brigade opened a new session ${saved.id} for you: claim again what you are working on (MCP claim_paths, or \`brigade claim … --session ${saved.id}\`).`,
      toPerson: `${sessionGoneLine(gone.id)}; opened a new session ${saved.id} and carried on`,
    };
  }
  return {
    toAgent: `Your Brigade session ${gone.id} has ended, so its claims are released; edits are still checked against other sessions' claims. Ask the user to start a new session.`,
    toPerson: `${sessionGoneLine(gone.id)}; edits are checked with your own token until a new session starts`,
  };
}

async function heartbeatSaved(client: BrigadeClient, statePath: string, saved: SavedSession) {
  const beat = await ok(client.api.POST("/v1/sessions/{id}/heartbeat", { params: { path: { id: saved.id } }, body: {} }));
  writeSaved(statePath, { ...(readSaved(statePath) ?? saved), heartbeatAt: Date.now(), ttlSeconds: beat.ttlSeconds });
}

// ── SessionStart, UserPromptSubmit, SessionEnd ───────────────────────────────

/**
 * Opens the Brigade session of one Claude Code session. Claude's `session_id` is sent as the
 * clientSessionId, so the server adopts the live session of the same run (a hook process that
 * lost its state, the HTTP hooks, the MCP server) instead of opening a second one.
 */
async function openSession(
  client: BrigadeClient,
  settings: Settings,
  root: string,
  statePath: string,
  clientSessionId: string | undefined,
): Promise<SavedSession> {
  const [repo, branch] = await Promise.all([remoteUrl(root), currentBranch(root)]);
  const agent = settings.agent && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(settings.agent) ? settings.agent : AGENT;
  const body = {
    agent: { name: agent, kind: AGENT },
    repo,
    worktree: root,
    host: hostname().slice(0, 255) || "unknown",
    ...(branch ? { branch } : {}),
    ...(clientSessionId ? { clientSessionId: clientSessionId.slice(0, 200) } : {}),
  };
  let started: StartedSession;
  try {
    started = await ok(client.api.POST("/v1/sessions", { body: { ...body, ttlSeconds: LEASE_SECONDS } }));
  } catch (err) {
    // A server whose lease bounds refuse an hour: take its default.
    if (!(err instanceof BrigadeError) || err.status !== 422) throw err;
    started = await ok(client.api.POST("/v1/sessions", { body }));
  }
  const saved: SavedSession = {
    id: started.session.id,
    token: started.token,
    repo: started.session.repo,
    server: client.baseUrl,
    worktree: root,
    heartbeatAt: Date.now(),
    ttlSeconds: started.session.ttlSeconds,
  };
  writeSaved(statePath, saved);
  return saved;
}

/**
 * Sends the repository's file list when HEAD's tree changed since the last upload (a commit, a
 * checkout): one `git rev-parse` when it did not. Best effort: without it, overlaps are only
 * not classified real or latent.
 */
async function refreshTreeQuietly(client: BrigadeClient, saved: SavedSession, statePath: string): Promise<void> {
  if (!saved.worktree) return;
  try {
    await refreshSavedTree(client, saved.worktree, statePath, saved);
  } catch {
    // Tried again after the next command that changes HEAD, or the next session start.
  }
}

/** Lets the agent's shell commands (git commit, brigade claim) act for the session too. */
function exportToClaudeEnv(settings: Settings, saved: SavedSession) {
  const file = settings.claudeEnvFile;
  if (!file) return;
  try {
    appendFileSync(file, `export BRIGADE_SESSION_ID=${saved.id}\nexport BRIGADE_SESSION_TOKEN=${saved.token}\n`);
  } catch {
    // Optional: the hooks find the session on their own.
  }
}

export async function sessionStart(ctx: Context): Promise<number> {
  const input = await readHookInput("session-start");
  // What is already changed in the worktree is not this session's doing: the Bash hook's baseline.
  const baseline = takeBaseline(input.session_id, input.cwd ?? ctx.cwd);
  try {
    return await startSession(ctx, input);
  } finally {
    await baseline;
  }
}

async function startSession(ctx: Context, input: HookInput): Promise<number> {
  const settings = hookSettings(ctx);
  const cwd = input.cwd ?? ctx.cwd;
  // Under `brigade run` its session token is enough; otherwise a personal token opens one.
  if (!settings.server || !(settings.token || settings.envSession?.token)) {
    emit({
      systemMessage:
        "brigade: not configured (run `brigade login --server URL --token TOKEN`); edits are not coordinated with other sessions",
    });
    return 0;
  }
  try {
    let { ref, statePath, saved } = hookSession(settings, input);
    const client = clientFor(settings, "session", ref);
    let note = "";
    if (saved && statePath) {
      try {
        await heartbeatSaved(client, statePath, saved);
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.unreachable) throw err;
        forgetSaved(statePath);
        saved = undefined;
        ref = undefined;
        note = " (the previous Brigade session had ended; this is a new one: claim again what you need)";
      }
    }
    if (!ref && statePath) {
      const root = worktreeOf(join(cwd, "-")); // looks from cwd itself upwards
      if (!root) throw new CliError(`not a git repository: ${cwd}; no Brigade session was started`);
      saved = await openSession(clientFor(settings, "user"), settings, root, statePath, input.session_id);
      ref = { id: saved.id, token: saved.token, repo: saved.repo, source: "agent-hook" };
    }
    if (!ref) return 0;
    if (saved) exportToClaudeEnv(settings, saved);
    if (saved && statePath) await refreshTreeQuietly(clientFor(settings, "session", ref), saved, statePath);
    // Alerts and messages wait for the first prompt, which tells each once (the server keeps track).
    const context = [
      `Brigade coordinates this repository${ref.repo ? ` (${ref.repo})` : ""} with other developers' agents. Your Brigade session is ${ref.id}${note}.`,
      `Before changing an area, claim it (MCP tool claim_paths with sessionId ${ref.id}, or \`brigade claim 'src/area/**' --session ${ref.id}\`); release it when done.`,
      "Edits inside other sessions' exclusive claims are blocked; the reason says who holds the claim and how to ask for a handoff.",
    ].join("\n");
    emit({ hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: context } });
  } catch (err) {
    emit({ systemMessage: `brigade: ${describeError(err).message}; edits are not coordinated with other sessions until this is fixed` });
  }
  return 0;
}

/**
 * A prompt: the server's own UserPromptSubmit answer (the endpoint the HTTP hooks call), so the
 * session's new alerts and messages and its directives' reminders are told as the server keeps
 * track of them: each once, whichever hook process or hook kind asks.
 */
export async function promptSubmit(ctx: Context): Promise<number> {
  const input = await readHookInput("prompt-submit");
  const settings = hookSettings(ctx);
  if (!settings.server) return 0; // SessionStart already said so
  const { ref, statePath, saved } = hookSession(settings, input);
  if (!ref) return 0;
  try {
    const client = clientFor(settings, "session", ref);
    const body = {
      session_id: input.session_id ?? ref.id,
      hook_event_name: "UserPromptSubmit",
      ...(input.cwd ? { cwd: input.cwd } : {}),
    };
    const [answer] = await Promise.all([
      ok(client.api.POST("/v1/hooks/claude-code", { params: { header: {} }, body })),
      saved && statePath ? heartbeatSaved(client, statePath, saved) : Promise.resolve(),
    ]);
    const context = answer.hookSpecificOutput?.additionalContext;
    if (!context) return 0;
    emit({ hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: context } });
  } catch (err) {
    if (isSessionGone(err, Boolean(ref.token))) {
      try {
        const root = saved?.worktree ?? worktreeOf(join(input.cwd ?? ctx.cwd, "-"));
        if (!root) throw err;
        const next = await afterSessionGone(settings, ref, statePath, root, input.session_id);
        emit({
          systemMessage: `brigade: ${next.toPerson}`,
          hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: next.toAgent },
        });
      } catch (again) {
        emit({ systemMessage: `brigade: ${describeError(again).message}` });
      }
      return 0;
    }
    emit({ systemMessage: `brigade: ${describeError(err).message}; alerts and messages were not checked` });
  }
  return 0;
}

export async function sessionEnd(ctx: Context): Promise<number> {
  const input = await readHookInput("session-end");
  const settings = hookSettings(ctx);
  if (input.session_id) forgetSnapshots(AGENT, input.session_id);
  if (settings.envSession || !input.session_id) return 0; // `brigade run` ends its own session
  const statePath = agentStatePath(AGENT, input.session_id);
  const saved = readSaved(statePath);
  if (!saved) return 0;
  forgetSaved(statePath);
  try {
    await ok(
      clientFor({ ...settings, server: saved.server }, "session", { id: saved.id, token: saved.token, source: "agent-hook" }).api.DELETE(
        "/v1/sessions/{id}",
        { params: { path: { id: saved.id } } },
      ),
    );
  } catch (err) {
    if (err instanceof BrigadeError && (err.status === 404 || err.status === 401)) return 0;
    ctx.out.note(`brigade: could not end session ${saved.id}: ${describeError(err).message} (it expires with its lease)`);
    return EXIT_FAILED;
  }
  return 0;
}

// ── PostToolUse (Bash) ───────────────────────────────────────────────────────

/**
 * The files a shell command changed cannot be read from its input, so after each Bash call the
 * worktree is compared, through git, with the snapshot taken when the last call was reported
 * (or when the session started). What is new or changed since is reported as the session's
 * touches; one lying in another session's exclusive claim is fed back to the agent at once.
 *
 * After an edit tool (Edit, MultiEdit, Write, NotebookEdit) the same hook runs too, but only
 * records the edited file's new state in the snapshot: that edit was checked and reported by
 * the edit hooks, and must not be reported again as the next Bash command's doing.
 *
 * It cannot see a file that a command changed and put back (or made and removed) within one
 * call, nor files git ignores; and what changed between two Bash calls by other means (the
 * person, another program) is reported with the next call.
 */
export async function postBash(ctx: Context): Promise<number> {
  const input = await readHookInput("post-bash");
  const event = input.hook_event_name;
  if (event !== undefined && event !== "PostToolUse" && event !== "SessionStart")
    throw new CliError(`hook post-bash expects a PostToolUse or SessionStart event, got ${JSON.stringify(event)}; nothing was reported`);
  if (!input.session_id) throw new CliError("hook post-bash: the input has no session_id; nothing was reported");
  // SessionStart (installed beside the HTTP hooks, which cannot look at the worktree): the baseline.
  if (event === "SessionStart") return (await takeBaseline(input.session_id, input.cwd ?? ctx.cwd), 0);
  const settings = hookSettings(ctx);
  if (guardMode(settings) === "off") return 0;
  const edit = editedFile(input.tool_name, input.tool_input);
  if (edit.known) return (await recordEdit(input, input.session_id, edit.file, ctx.cwd), 0);
  if (input.tool_name !== undefined && input.tool_name !== "Bash") return 0;
  const root = worktreeOf(join(input.cwd ?? ctx.cwd, "-"));
  if (!root) return 0; // outside any repository: nothing of Brigade's to report

  const snapshot = snapshotPath(AGENT, input.session_id, root);
  let now: Fingerprints;
  try {
    now = await dirtyFiles(root, GIT_TIMEOUT_MS);
  } catch (err) {
    return postBashWarning(`could not list what the command changed (${describeError(err).message})`, "");
  }
  const keep = () => writeSnapshot(snapshot, { worktree: root, takenAt: Date.now(), files: now });
  const before = readSnapshotSafely(snapshot);
  // No baseline (the session started before these hooks, or it was lost): from now on.
  if (!before || before.worktree !== root) return (keep(), 0);
  // A command that moved HEAD (commit, checkout, pull) changed the file list the server classifies against.
  if (settings.server) {
    const { ref: treeRef, statePath: treeState, saved: treeSaved } = hookSession(settings, input);
    if (treeRef && treeState && treeSaved) await refreshTreeQuietly(clientFor(settings, "session", treeRef), treeSaved, treeState);
  }
  const changed = changedSince(before.files, now);
  if (changed.length === 0 || !settings.server || !(settings.token || settings.envSession?.token)) return (keep(), 0);

  const reported = changed.slice(0, MAX_REPORTED_PATHS);
  const named = `${reported.slice(0, 5).join(", ")}${reported.length > 5 ? ` and ${reported.length - 5} more` : ""}`;
  let { ref, statePath } = hookSession(settings, input);
  const notes: string[] = [];
  const warnings: string[] = [];
  let answers: Schemas["ClaudeCodeHookAnswer"][] = [];
  try {
    const repo = ref?.repo ?? (await remoteUrl(root));
    // The hook endpoint maps Claude's session_id to the run's Brigade session (the one the
    // command hooks saved, or the HTTP hooks opened) and words the answer for the agent.
    const report = async (as: SessionRef | undefined) => {
      const client = clientFor(settings, "session", as);
      const out: Schemas["ClaudeCodeHookAnswer"][] = [];
      for (let i = 0; i < reported.length; i += PATHS_PER_REPORT) {
        const body = {
          session_id: input.session_id!,
          hook_event_name: "PostToolUse",
          cwd: input.cwd ?? root,
          tool_name: "Bash",
          brigade_changed_paths: reported.slice(i, i + PATHS_PER_REPORT),
        };
        const headers = { "x-brigade-repo": repo, "x-brigade-worktree": root };
        out.push(await ok(client.api.POST("/v1/hooks/claude-code", { params: { header: headers }, body })));
      }
      return out;
    };
    try {
      answers = await report(ref);
    } catch (err) {
      if (!ref || !isSessionGone(err, Boolean(ref.token))) throw err;
      const next = await afterSessionGone(settings, ref, statePath, root, input.session_id);
      ref = next.ref;
      notes.push(next.toAgent);
      warnings.push(next.toPerson);
      answers = await report(ref);
    }
  } catch (err) {
    // Not advanced: what was not reported is reported with the next command.
    return postBashWarning(`${describeError(err).message}; this command's changes (${named}) were NOT reported`, named);
  }
  keep();

  if (changed.length > reported.length)
    warnings.push(`${changed.length - reported.length} more changed files were not reported (at most ${MAX_REPORTED_PATHS} per command)`);
  const blocked = answers.filter((a) => a.decision === "block" && a.reason).map((a) => a.reason!);
  const context = answers.map((a) => a.hookSpecificOutput?.additionalContext).filter((c): c is string => Boolean(c));
  const text = [...notes, ...blocked, ...context].join(" ");
  if (blocked.length)
    warnings.push(`this command changed files inside other sessions' exclusive claims (it changed ${named}); the agent was told to stop`);
  if (!text && warnings.length === 0) return 0;
  emit({
    ...(blocked.length ? { decision: "block", reason: text } : {}),
    ...(warnings.length ? { systemMessage: warnings.map((w) => `brigade: ${w}`).join("\n") } : {}),
    ...(text ? { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: text } } : {}),
  });
  return 0;
}

/** Fails open: the person sees why, the agent is told its changes were not checked. */
function postBashWarning(warning: string, named: string): number {
  emit({
    systemMessage: `brigade: ${warning}`,
    hookSpecificOutput: {
      hookEventName: "PostToolUse",
      additionalContext: `Brigade warning: ${warning}. ${
        named ? "Those files were not checked against other sessions' claims; they will be reported with your next command." : ""
      }`.trim(),
    },
  });
  return 0;
}

function readSnapshotSafely(path: string): WorktreeSnapshot | null {
  try {
    return readSnapshot(path);
  } catch {
    return null; // unreadable: start over from now
  }
}

/**
 * An edit tool changed one file: its new state goes into the snapshot, so the next Bash call
 * does not take it for its own change. Nothing else in the snapshot moves (what changed by
 * other means is still reported); with no snapshot yet, the whole worktree is the baseline.
 */
async function recordEdit(input: HookInput, sessionId: string, file: unknown, cwd: string): Promise<void> {
  if (typeof file !== "string" || !file) return;
  const absolute = resolve(input.cwd ?? cwd, file);
  const root = worktreeOf(absolute);
  const path = root ? repoRelative(root, absolute) : undefined;
  if (!root || !path) return; // outside any repository: not Brigade's
  const snapshot = snapshotPath(AGENT, sessionId, root);
  const before = readSnapshotSafely(snapshot);
  if (!before || before.worktree !== root) return takeBaseline(sessionId, root);
  writeSnapshot(snapshot, { ...before, files: { ...before.files, [path]: fingerprint(root, path) } });
}

/** Remembers what is already changed in the worktree, so it is not taken for the next command's doing. */
async function takeBaseline(sessionId: string | undefined, cwd: string): Promise<void> {
  const root = worktreeOf(join(cwd, "-"));
  if (!sessionId || !root) return;
  try {
    const files = await dirtyFiles(root, GIT_TIMEOUT_MS);
    writeSnapshot(snapshotPath(AGENT, sessionId, root), { worktree: root, takenAt: Date.now(), files });
  } catch {
    // The Bash hook takes one itself when it finds none.
  }
}
