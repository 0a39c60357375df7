import type { BrigadeEvent } from "../api/types.js";

/** Names for the ids events carry; the dashboard's directory answers these. */
export interface Names {
  user(id: string | null | undefined): string;
  team(id: string | null | undefined): string;
  /** "alice/claude-1" for a known live session, else a short id. */
  session(id: string | null | undefined): string;
}

const s = (v: unknown): string => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
const list = (v: unknown): string => (Array.isArray(v) ? v.map(s).join(", ") : s(v));

/** The actor of an event, in words. */
export function actorOf(event: BrigadeEvent, names: Names): string {
  if (event.actor.type === "system") return "Brigade";
  if (event.actor.type === "session") return names.session(event.actor.id);
  return names.user(event.actor.id);
}

/**
 * One sentence per event, built from its payload (docs/architecture.md lists the types). The
 * result is plain text: every name, task and path in it is rendered escaped.
 */
export function describeEvent(event: BrigadeEvent, names: Names): string {
  const p = event.payload;
  const who = actorOf(event, names);
  switch (event.type) {
    case "session.started":
      return `${names.user(s(p.userId))} started ${s(p.agent)} on ${s(p.repo)}${p.branch ? ` (${s(p.branch)})` : ""}${p.task ? `: ${s(p.task)}` : ""}`;
    case "session.ended":
      return `${names.session(event.subject.id)} ended its session on ${s(p.repo)}`;
    case "session.expired":
      return `${names.session(event.subject.id)} stopped heartbeating; its session on ${s(p.repo)} expired`;
    case "claim.granted":
      return `${names.session(s(p.sessionId))} claimed ${list(p.patterns)} (${s(p.mode)})${p.reason ? ` — ${s(p.reason)}` : ""}`;
    case "claim.conflicted": {
      const conflicts = Array.isArray(p.conflicts) ? p.conflicts : [];
      const first = (conflicts[0] ?? {}) as Record<string, unknown>;
      const holder = (first.holder ?? {}) as Record<string, unknown>;
      const outcome = p.outcome === "granted_with_warning" ? "granted with a warning" : "refused";
      return `${names.session(s(p.sessionId))} tried to claim ${list(p.patterns)}: ${outcome}, overlapping ${names.user(s(holder.userId))}'s ${s(first.theirPattern)}${first.witness ? ` at ${s(first.witness)}` : ""}${conflicts.length > 1 ? ` and ${conflicts.length - 1} more` : ""}`;
    }
    case "claim.renewed":
      return `${names.session(s(p.sessionId))} renewed a claim`;
    case "claim.released":
      return `${names.session(s(p.sessionId))} released a claim (${s(p.reason)})`;
    case "claim.expired":
      return `A claim of ${names.session(s(p.sessionId))} expired`;
    case "claim.broken":
      return `${names.user(s(p.brokenBy))} broke ${names.user(s(p.userId))}'s claim: ${s(p.reason)}`;
    case "handoff.requested":
      return `${names.user(s(p.requesterUserId))} asked ${names.user(s(p.holderUserId))} to hand over a claim: ${s(p.reason)}`;
    case "handoff.answered":
      return `A handoff was answered: ${s(p.answer)}${p.note ? ` — ${s(p.note)}` : ""}`;
    case "touch.conflict":
      return `${names.session(s(p.sessionId))} edited ${s(p.path)}, ${p.kind === "claim" ? "inside a claim of" : "also edited by"} ${names.user(s(p.otherUserId))}`;
    case "conflict.opened":
      return `Conflict between ${names.user(s(p.userId))} and ${names.user(s(p.otherUserId))} at ${s(p.witness)}`;
    case "conflict.acknowledged":
      return `${who} acknowledged the conflict between ${names.user(s(p.userId))} and ${names.user(s(p.otherUserId))}`;
    case "conflict.resolved":
      return `Conflict between ${names.user(s(p.userId))} and ${names.user(s(p.otherUserId))} resolved (${s(p.resolution).replace(/_/g, " ")})`;
    case "contract.created":
      return `${who} created contract ${s(p.name)} (${s(p.kind)}) for ${names.team(s(p.providerTeamId))}`;
    case "contract.updated":
      return `${who} changed contract ${s(p.name)}`;
    case "contract.archived":
      return `${who} archived contract ${s(p.name)}`;
    case "contract.consumer_added":
      return `${who} added a consumer to ${s(p.name)}`;
    case "contract.consumer_removed":
      return `${who} removed a consumer from ${s(p.name)}`;
    case "contract.version_published":
      return `${who} published ${s(p.name)} ${s(p.label)}${p.forced ? " (forced, breaking)" : ""}`;
    case "contract.changed":
      return `${s(p.name)} ${s(p.label)} changed compatibly (${s((p.summary as Record<string, unknown> | undefined)?.nonBreaking ?? 0)} non-breaking changes)`;
    case "contract.breaking_change":
      return `${s(p.name)} ${s(p.label)} has ${s(p.breakingTotal)} breaking change(s): ${s(p.reason)}`;
    case "contract.proposal_opened":
      return `${who} proposed a change to ${s(p.name)}${p.label ? ` (${s(p.label)})` : ""}${p.compatible === false ? " — breaking" : ""}`;
    case "contract.proposal_answered":
      return `${names.user(s(p.answeredBy))} answered a proposal for ${s(p.name)}: ${s(p.answer)}${p.comment ? ` — ${s(p.comment)}` : ""}`;
    case "contract.proposal_closed":
      return `A proposal for ${s(p.name)} was ${s(p.resolution)}`;
    case "contract.at_risk":
      return `${s(p.agent)} is working on the source of ${s(p.name)} (${s(p.via)})`;
    case "codeowners.updated":
      return `${who} updated CODEOWNERS of ${s(event.repo)} (${s(p.rules)} rules)`;
    case "module.updated":
      return `${who} updated module ${s(p.name)}`;
    case "module.deleted":
      return `${who} deleted module ${s(p.name)}`;
    case "org.created":
      return `Organisation ${s(p.name)} created`;
    case "team.created":
      return `${who} created team ${s(p.name)}`;
    case "team.member_added":
      return `${names.user(s(p.userId))} joined ${names.team(s(p.teamId))}`;
    case "team.member_removed":
      return `${names.user(s(p.userId))} left ${names.team(s(p.teamId))}`;
    case "user.created":
      return `${who} added user ${s(p.name)} (${s(p.role)})`;
    case "user.role_changed":
      return `${names.user(event.subject.id)} is now ${s(p.to)} (was ${s(p.from)})`;
    case "token.created":
      return `${who} minted a ${s(p.kind)} token`;
    case "token.revoked":
      return `${who} revoked a ${s(p.kind)} token`;
    default:
      return `${event.type} by ${who}`;
  }
}

/** Event type groups for filters and colour coding. */
export const EVENT_GROUPS = ["session.", "claim.", "handoff.", "touch.", "conflict.", "contract.", "codeowners.", "module.", "team.", "user.", "token."] as const;

export function eventTone(type: string): "danger" | "warning" | "ok" | "neutral" {
  if (type === "claim.conflicted" || type === "touch.conflict" || type === "conflict.opened" || type === "contract.breaking_change" || type === "claim.broken") return "danger";
  if (type === "session.expired" || type === "claim.expired" || type === "contract.at_risk" || type === "handoff.requested") return "warning";
  if (type === "conflict.resolved" || type === "session.started" || type === "claim.granted") return "ok";
  return "neutral";
}
