/**
 * Claude Code's hook events, served by the server itself (`POST /v1/hooks/claude-code`): one
 * Brigade session per Claude Code session (its `session_id` is the session's clientSessionId),
 * kept alive by the hook calls themselves, reopened when it has nevertheless ended, and edit
 * checks answered from the in-memory claim index.
 *
 * A prompt and a finished tool call also tell the agent of messages for its session
 * (`takeMessageNotices`), so it hears of them while it works.
 *
 * The answers are Claude Code's documented hook output. An allowed edit gets `{}`, never
 * "allow": an explicit allow would skip the user's own permission rules.
 */
import path from "node:path/posix";
import type { Principal } from "../identity/identity.schemas.js";
import { identityErrors } from "../identity/identity.errors.js";
import { peopleNamed } from "../identity/people.js";
import type { ClaimDeps } from "../claims/claims.usecases.js";
import { coveringClaims, listClaims, listQueue, presentCheck, reportTouches } from "../claims/claims.usecases.js";
import { matches } from "../../patterns/index.js";
import { HOOKS_OPENER } from "../sessions/sessions.schemas.js";
import type { SessionDeps } from "../sessions/sessions.usecases.js";
import { endSession, ensureSession, findRunSession, getSession, listSessions } from "../sessions/sessions.usecases.js";
import { ALERTS_TOLD_AS_NOTICES, takeMessageNotices } from "../messages/messages.usecases.js";
import { claimSubject, talkOffer } from "../claims/claims.talk.js";
import { hookErrors } from "./hooks.errors.js";
import type { ClaudeCodeHookAnswer, ClaudeCodeHookInput } from "./hooks.schemas.js";

export interface HookDeps {
  sessions: Pick<SessionDeps, "db" | "config" | "onSessionsClosed" | "heartbeats">;
  claims: Pick<ClaimDeps, "db" | "config" | "cache" | "onWork" | "policy">;
  /**
   * The session's unread alerts as sentences, acknowledged as they are taken (delivery's); those
   * of the `toldOtherwise` types are acknowledged without a sentence.
   */
  unreadAlerts: (principal: Principal, options: { toldOtherwise: ReadonlySet<string> }) => Promise<string[]>;
  runs: HookRuns;
}

export interface HookRequest {
  repo: string | undefined;
  worktree: string | undefined;
  input: ClaudeCodeHookInput;
}

/** The tools that write one file named in their input. */
const FILE_TOOLS: Record<string, string> = { Edit: "file_path", MultiEdit: "file_path", Write: "file_path", NotebookEdit: "notebook_path" };
const HANDOFF_ADVICE = (claimId: string) =>
  `ask for a handoff with the MCP tool request_handoff (claimId ${claimId}) or \`brigade handoff request ${claimId} --reason "…"\``;

/**
 * Which Brigade session each Claude Code session maps to, per process, and when its lease is due
 * for extension: a hook call writes only once half the lease has passed, so edit checks cost
 * no write; a call after the session ended or expired opens a fresh one for the same run.
 */
export class HookRuns {
  private readonly runs = new Map<string, { sessionId: string; renewAfter: number }>();
  constructor(private readonly maxEntries = 50_000) {}
  get(key: string) {
    return this.runs.get(key);
  }
  set(key: string, sessionId: string, ttlSeconds: number, since: number) {
    if (this.runs.size >= this.maxEntries) this.runs.clear();
    this.runs.set(key, { sessionId, renewAfter: since + (ttlSeconds * 1000) / 2 });
  }
  forget(key: string) {
    this.runs.delete(key);
  }
}

interface RunSession {
  id: string;
  /** The caller acting for that session (a personal token's principal, narrowed to it). */
  principal: Principal;
  /** Opened by this call: the run had a session before that had ended or expired. */
  reopened: boolean;
  adopted: boolean;
}

/** An absolute worktree root, normalised; paths are mapped into it. */
function worktreeOf(request: HookRequest): string {
  const root = request.worktree ?? request.input.cwd;
  if (!root?.startsWith("/"))
    throw hookErrors.worktreeInvalid("Send the absolute worktree root in the X-Brigade-Worktree header.", {
      errors: [{ field: "X-Brigade-Worktree", reason: root ? "must be an absolute path" : "is required" }],
    });
  return path.normalize(root).replace(/\/$/, "") || "/";
}

/** A path as the agent named it, as a repository path; null when outside the worktree. */
export function toRepoPath(worktree: string, cwd: string | undefined, file: string): string | null {
  const absolute = file.startsWith("/") ? path.normalize(file) : path.join(cwd?.startsWith("/") ? cwd : worktree, file);
  const relative = path.relative(worktree, absolute);
  if (relative === "" || relative.startsWith("..") || relative.startsWith("/")) return null;
  return relative;
}

function repoOf(request: HookRequest): string {
  if (!request.repo)
    throw hookErrors.repoRequired("Send the repository (its remote or key, as registered) in the X-Brigade-Repo header.", {
      errors: [{ field: "X-Brigade-Repo", reason: "is required" }],
    });
  return request.repo;
}

/** The key of one Claude Code session of one user in `HookRuns`. */
const runKey = (principal: Principal, request: HookRequest) => `${principal.orgId}/${principal.userId}/${request.input.session_id}`;

/** The Brigade session of this Claude Code session: adopted, kept alive, or opened afresh. */
async function runSession(deps: HookDeps, principal: Principal, request: HookRequest, force = false): Promise<RunSession> {
  const clientSessionId = request.input.session_id;
  const key = runKey(principal, request);
  const known = deps.runs.get(key);
  const startedAt = performance.now();
  if (principal.sessionId) {
    // A session token acts for its own session only (its lease is kept by any request it makes).
    if (known?.sessionId !== principal.sessionId) {
      const session = await getSession(deps.sessions, principal, principal.sessionId);
      if (session.clientSessionId !== null && session.clientSessionId !== clientSessionId)
        throw identityErrors.outsideSession("This session token belongs to another agent session; use its own token or a personal token.");
      deps.runs.set(key, session.id, session.ttlSeconds, startedAt);
    }
    return { id: principal.sessionId, principal, reopened: false, adopted: true };
  }
  const narrowed = (id: string): Principal => ({ ...principal, sessionId: id });
  if (known && !force) {
    if (startedAt < known.renewAfter) return { id: known.sessionId, principal: narrowed(known.sessionId), reopened: false, adopted: true };
    const extended = await deps.sessions.heartbeats.submit({ orgId: principal.orgId, id: known.sessionId, ownerId: principal.userId });
    if (extended) {
      deps.runs.set(key, extended.id, extended.ttlSeconds, startedAt);
      return { id: extended.id, principal: narrowed(extended.id), reopened: false, adopted: true };
    }
  }
  const worktree = worktreeOf(request);
  const { session, adopted } = await ensureSession(
    deps.sessions,
    principal,
    { agent: { name: "claude-code", kind: "claude-code" }, repo: repoOf(request), worktree, clientSessionId },
    { openedBy: HOOKS_OPENER },
  );
  deps.runs.set(key, session.id, session.ttlSeconds, startedAt);
  return {
    id: session.id,
    principal: narrowed(session.id),
    reopened: !adopted && known !== undefined && known.sessionId !== session.id,
    adopted,
  };
}

const reopenedNote = (s: RunSession) =>
  s.reopened
    ? ` Your previous Brigade session had ended (its claims were released); Brigade opened session ${s.id} for you: claim again what you still need.`
    : "";

export async function handleClaudeCodeHook(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  switch (request.input.hook_event_name) {
    case "SessionStart":
      return sessionStart(deps, principal, request);
    case "PreToolUse":
      return preToolUse(deps, principal, request);
    case "PostToolUse":
      return postToolUse(deps, principal, request);
    case "UserPromptSubmit":
      return promptSubmit(deps, principal, request);
    case "SessionEnd":
      return sessionEnd(deps, principal, request);
    default:
      return {};
  }
}

async function sessionStart(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  const repo = repoOf(request);
  const s = await runSession(deps, principal, request, true);
  const [sessions, claims] = await Promise.all([
    listSessions(deps.sessions, principal, { repo, active: true, limit: 50 }),
    listClaims(deps.claims, principal, { repo, active: true, limit: 200 }),
  ]);
  const others = sessions.items.filter((o) => o.id !== s.id);
  const people = await peopleNamed(
    deps.sessions.db,
    principal.orgId,
    others.map((o) => o.userId),
  );
  const lines = others.map((o) => {
    const held = claims.items.filter((c) => c.sessionId === o.id);
    const what = held.length ? `; claims ${held.map((c) => `${c.patterns.join(", ")} (${c.mode}, claim ${c.id})`).join("; ")}` : "";
    return `- ${people.name(o.userId)}'s agent ${o.agent.name}${o.task ? ` working on "${o.task}"` : ""}${what}`;
  });
  const own = claims.items.filter((c) => c.sessionId === s.id);
  const text =
    `Brigade: this agent session is Brigade session ${s.id} in ${sessions.items[0]?.repo ?? repo}${s.adopted ? " (resumed)" : ""}; ` +
    "your tool calls keep it alive, and the Brigade MCP tools act for it. Claim the areas you will change before editing (MCP begin_work or claim_paths)." +
    (own.length ? ` You hold: ${own.map((c) => c.patterns.join(", ")).join("; ")}.` : "") +
    (lines.length ? `\nOthers working in this repository:\n${lines.join("\n")}` : "\nNo one else is working in this repository now.");
  return { hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: text } };
}

/** The repository paths a tool call names: its file, or for Bash what the command hook saw change. */
function pathsOf(request: HookRequest, bash: boolean): string[] {
  const { input } = request;
  const field = input.tool_name ? FILE_TOOLS[input.tool_name] : undefined;
  let named: string[] = [];
  if (field) {
    const file = input.tool_input?.[field];
    named = typeof file === "string" && file.length > 0 ? [file] : [];
  } else if (bash && input.tool_name === "Bash") {
    named = input.brigade_changed_paths ?? [];
  }
  if (named.length === 0) return [];
  const worktree = worktreeOf(request);
  // A tool names files as the agent sees them (relative to its cwd); git's are worktree-relative.
  const base = field ? input.cwd : worktree;
  return [...new Set(named.map((p) => toRepoPath(worktree, base, p)).filter((p): p is string => p !== null))];
}

async function preToolUse(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  const paths = pathsOf(request, false);
  if (paths.length === 0) return {};
  const repo = repoOf(request);
  const s = await runSession(deps, principal, request);
  // An edit guard: a new file inside another session's exclusive claim is refused like an existing one.
  const covered = await coveringClaims(deps.claims, s.principal, { repo, paths, sessionId: s.id, onLatent: "block" });
  if (covered.violations === 0) return allowedEdit(deps, s, request, covered, paths);
  // The refusal's reads go out together: holders' names and threads, and whether the session
  // already waits in the queue for each path, or could.
  const [checked, queue] = await Promise.all([
    presentCheck(deps.claims, s.principal, covered),
    listQueue(deps.claims, { ...s.principal, sessionId: s.id }, { status: "waiting", limit: 100 }),
  ]);
  const violations = checked.results.flatMap((r) => r.violations.map((v) => ({ path: r.path, ...v })));
  const queued = (path: string) => queue.find((q) => q.entry.patterns.some((p) => matches(p, path)));
  const lines = violations.map((v) => {
    const entry = queued(v.path);
    const queueText = entry
      ? `You are already queued for it (queue entry ${entry.entry.id}, position ${entry.position}): Brigade grants it to you when the holder releases, and tells you.`
      : `Or queue for it: MCP claim_paths with onConflict "queue", or \`brigade claim ${v.path} --queue\`; it is granted to you automatically, first come first served, when the holder releases.`;
    return `${v.path} in ${checked.repo} is claimed exclusively by ${v.holderName}'s agent ${v.holder.agent.name} (pattern ${v.pattern}, claim ${v.claimId}, until ${v.expiresAt}${v.reason ? `, "${v.reason}"` : ""}). To work on it, ${HANDOFF_ADVICE(v.claimId)} and wait for the answer. ${queueText} ${talkOffer(v.thread, claimSubject(v.pattern))}`;
  });
  return {
    // The person sees why the agent stopped; the agent gets the whole reason.
    systemMessage: violations
      .map(
        (v) =>
          `brigade: blocked an edit of ${v.path}: claimed by ${v.holderName}'s agent ${v.holder.agent.name} (${v.pattern}) until ${v.expiresAt}`,
      )
      .join("\n"),
    hookSpecificOutput: {
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason: `Brigade: ${lines.join(" ")} Do not edit it another way meanwhile.${reopenedNote(s)}`,
    },
  };
}

/**
 * An allowed edit: `{}` unless there is something to say — claims it lies in that do not block
 * (shared ones; the same developer's under the `warn` policy), a session reopened, and, when the
 * command hook asks (`brigade_report_touch`: it reports the edit now rather than in a second
 * request after it), other agents editing the same file.
 */
async function allowedEdit(
  deps: HookDeps,
  s: RunSession,
  request: HookRequest,
  covered: Awaited<ReturnType<typeof coveringClaims>>,
  paths: string[],
): Promise<ClaudeCodeHookAnswer> {
  // Naming the holders of non-blocking claims and recording the touch are independent reads and writes.
  const [checked, touched] = await Promise.all([
    covered.notices > 0 ? presentCheck(deps.claims, s.principal, covered) : null,
    request.input.brigade_report_touch ? reportTouches(deps.claims, s.principal, s.id, { paths }) : null,
  ]);
  const notes = (checked?.results ?? []).flatMap((r) =>
    r.notices.map(
      (n) =>
        `${r.path} is inside ${n.mode === "shared" ? "a shared" : "an exclusive"} claim (${n.pattern}) of ${n.holderName}'s agent ${n.holder.agent.name} until ${n.expiresAt} (claim ${n.claimId}); coordinate before large changes.`,
    ),
  );
  notes.push(...(touched?.conflicts ?? []).map(touchText));
  const context = joined(notes.length ? `Brigade: ${notes.join(" ")}` : "", reopenedNote(s).trim());
  return context ? { hookSpecificOutput: { hookEventName: "PreToolUse", additionalContext: context } } : {};
}

function touchText(c: {
  path: string;
  kind: "claim" | "touch";
  otherName: string;
  agent: string;
  otherSessionId: string;
  claimId: string | null;
}) {
  const who = `${c.otherName}'s agent ${c.agent}`;
  return c.kind === "claim"
    ? `${c.path} lies in an exclusive claim of ${who} (claim ${c.claimId}): stop changing it, undo your change if you can, and ${HANDOFF_ADVICE(c.claimId!)}.`
    : `${c.path} is also being edited by ${who} (session ${c.otherSessionId}); both sides were alerted — coordinate to avoid a merge conflict.`;
}

/** The messages to tell the agent of, as one block of context (empty when there are none). */
async function messageContext(deps: HookDeps, s: RunSession, repeatDirectives: boolean): Promise<string> {
  const lines = await takeMessageNotices({ db: deps.sessions.db }, { ...s.principal, sessionId: s.id }, { repeatDirectives });
  return lines.length ? `Brigade messages for this session:\n${lines.map((l) => `- ${l}`).join("\n")}` : "";
}

const joined = (...parts: string[]) => parts.filter(Boolean).join("\n");

async function postToolUse(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  const paths = pathsOf(request, true);
  if (paths.length === 0) {
    // Most tool calls change no file: tell of messages only for a run already known here (one
    // query), never opening a session for a call that names no repository work.
    const known = principal.sessionId ?? deps.runs.get(runKey(principal, request));
    if (!known) return {};
    const s = await runSession(deps, principal, request);
    const context = joined(await messageContext(deps, s, false), reopenedNote(s).trim());
    return context ? { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: context } } : {};
  }
  let s = await runSession(deps, principal, request);
  let result: Awaited<ReturnType<typeof reportTouches>>;
  try {
    result = await reportTouches(deps.claims, s.principal, s.id, { paths });
  } catch (err) {
    // Ended since this process last extended it: open a fresh session for the run, report again.
    if ((err as { code?: string }).code !== "sessions.not_active" || principal.sessionId) throw err;
    s = await runSession(deps, principal, request, true);
    result = await reportTouches(deps.claims, s.principal, s.id, { paths });
  }
  const messages = await messageContext(deps, s, false);
  if (result.conflicts.length === 0) {
    const context = joined(messages, reopenedNote(s).trim());
    return context ? { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: context } } : {};
  }
  const inClaims = result.conflicts.filter((c) => c.kind === "claim");
  const text = `Brigade: ${result.conflicts.map(touchText).join(" ")}${reopenedNote(s)}`;
  // A change inside another's exclusive claim is fed back to the agent at once (the tool already ran).
  if (inClaims.length > 0)
    return {
      decision: "block",
      reason: text,
      ...(messages ? { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: messages } } : {}),
    };
  return { hookSpecificOutput: { hookEventName: "PostToolUse", additionalContext: joined(text, messages) } };
}

async function promptSubmit(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  const s = await runSession(deps, principal, request);
  // A message's one signal is its notice: its message.sent alert is not told a second time.
  const messages = await messageContext(deps, s, true);
  const texts = await deps.unreadAlerts(s.principal, { toldOtherwise: ALERTS_TOLD_AS_NOTICES });
  const note = reopenedNote(s).trim();
  const alerts = texts.length ? `Brigade alerts for this session:\n${texts.map((t) => `- ${t}`).join("\n")}` : "";
  const context = joined(alerts, messages, note);
  return context ? { hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: context } } : {};
}

async function sessionEnd(deps: HookDeps, principal: Principal, request: HookRequest): Promise<ClaudeCodeHookAnswer> {
  const key = `${principal.orgId}/${principal.userId}/${request.input.session_id}`;
  deps.runs.forget(key);
  const id = principal.sessionId ?? (await findRunSession(deps.sessions, principal, request.input.session_id))?.id;
  if (id) await endSession(deps.sessions, principal, id);
  return {};
}
