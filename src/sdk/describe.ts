/**
 * One-line descriptions of events and alerts, for people and agents alike: the CLI, the agent
 * hooks, the MCP tools and the dashboard say the same thing, written once per event type in
 * the domain that owns it (`src/modules/<domain>/<domain>.events.ts`).
 */
import type { Names } from "../events/catalog.js";
import type { EventEnvelope } from "../events/envelope.js";
import { eventRegistry } from "../modules/catalog.js";

export type { Names };

type Describable = Pick<EventEnvelope, "type" | "actor" | "subject" | "repo"> & { payload: object };

/** Names that are the ids themselves: what a terminal or an agent can quote back. */
export const idNames: Names = {
  user: (id) => id ?? "",
  team: (id) => id ?? "",
  session: (id) => `session ${id ?? ""}`,
  claim: (id) => `claim ${id ?? ""}`,
};

/** One sentence about an event; a type this build does not know is named as it is. */
export function describeEvent(event: Describable, names: Names = idNames): string {
  return eventRegistry.describe(event as Pick<EventEnvelope, "type" | "actor" | "subject" | "repo" | "payload">, names);
}

/** An alert's sentence, and what to do next where its type suggests something. */
export function describeAlert(alert: { event: Describable }, names: Names = idNames): string {
  const event = alert.event as Pick<EventEnvelope, "type" | "actor" | "subject" | "repo" | "payload">;
  const next = eventRegistry.next(event);
  return next ? `${describeEvent(event, names)}; ${next}` : describeEvent(event, names);
}
