import { actorName, type Names } from "../../../src/events/catalog.js";
import { describeEvent as describe } from "../../../src/sdk/describe.js";
import type { BrigadeEvent } from "../api/types.js";

/** Names for the ids events carry; the dashboard's directory answers these. */
export type { Names };

/** The actor of an event, in words. */
export function actorOf(event: BrigadeEvent, names: Names): string {
  return actorName(event.actor, names);
}

/**
 * One sentence per event, written once per type beside its definition (the CLI, hooks and MCP
 * tools say the same). The result is plain text: every name, task and path in it is rendered
 * escaped.
 */
export function describeEvent(event: BrigadeEvent, names: Names): string {
  return describe(event, names);
}

/** Event type groups for filters and colour coding. */
export const EVENT_GROUPS = [
  "session.",
  "claim.",
  "handoff.",
  "touch.",
  "conflict.",
  "contract.",
  "message.",
  "codeowners.",
  "module.",
  "repo.",
  "team.",
  "user.",
  "token.",
] as const;

export function eventTone(type: string): "danger" | "warning" | "ok" | "neutral" {
  if (
    type === "claim.conflicted" ||
    type === "touch.conflict" ||
    type === "conflict.opened" ||
    type === "contract.breaking_change" ||
    type === "claim.broken"
  )
    return "danger";
  if (type === "session.expired" || type === "claim.expired" || type === "contract.at_risk" || type === "handoff.requested")
    return "warning";
  if (type === "conflict.resolved" || type === "session.started" || type === "claim.granted") return "ok";
  return "neutral";
}
