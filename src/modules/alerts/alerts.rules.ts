import { newId } from "../../infra/ids.js";
import type { Actor, NewEvent } from "../events/events.schemas.js";
import type { Recipient } from "./alerts.schemas.js";

/** A session and the user who runs it: both hear about what happens to the session's work. */
interface Party {
  sessionId: string;
  userId: string;
}

const partyRecipients = (parties: Party[]): Recipient[] =>
  parties.flatMap((p) => [
    { type: "session" as const, id: p.sessionId },
    { type: "user" as const, id: p.userId },
  ]);

/** The holders named in a claim.conflicted payload (its conflict list is untyped in the log). */
function holdersOf(conflicts: Record<string, unknown>[]): Party[] {
  return conflicts.flatMap((c) => {
    const holder = c.holder as { sessionId?: unknown; userId?: unknown } | undefined;
    return typeof holder?.sessionId === "string" && typeof holder.userId === "string" ? [{ sessionId: holder.sessionId, userId: holder.userId }] : [];
  });
}

/** Whoever acted already knows: lifecycle alerts go to the other recipients. */
const exceptActor = (recipients: Recipient[], actor: Actor) => recipients.filter((r) => !(r.type === actor.type && r.id === actor.id));

/**
 * Who is told about an event, by its type. Pure: everything needed is in the event.
 *
 * - a conflict (`claim.conflicted`, rejected or granted with a warning; `touch.conflict`):
 *   the requester's session and user and every holder's session and user;
 * - `claim.broken`, `claim.expired`: the holder's session and user;
 * - `handoff.requested`: the holder; `handoff.answered`: the requester;
 * - `session.expired`: the session and its owner;
 * - `conflict.acknowledged`, `conflict.resolved`: both parties, except the one who acted;
 * - `conflict.opened`: nobody — it is written in the same transaction as the
 *   `claim.conflicted` / `touch.conflict` event that detected it, which already alerts the
 *   same parties, and acking that alert acknowledges the conflict.
 */
export function recipientsByRule(event: NewEvent): Recipient[] {
  switch (event.type) {
    case "claim.conflicted": {
      const p = event.payload;
      return partyRecipients([{ sessionId: p.sessionId, userId: p.userId }, ...holdersOf(p.conflicts)]);
    }
    case "touch.conflict": {
      const p = event.payload;
      return partyRecipients([
        { sessionId: p.sessionId, userId: p.userId },
        { sessionId: p.otherSessionId, userId: p.otherUserId },
      ]);
    }
    case "claim.broken":
    case "claim.expired":
      return partyRecipients([{ sessionId: event.payload.sessionId, userId: event.payload.userId }]);
    case "handoff.requested":
      return partyRecipients([{ sessionId: event.payload.holderSessionId, userId: event.payload.holderUserId }]);
    case "handoff.answered":
      return partyRecipients([{ sessionId: event.payload.requesterSessionId, userId: event.payload.requesterUserId }]);
    case "session.expired":
      return partyRecipients([{ sessionId: event.subject.id, userId: event.payload.userId }]);
    case "conflict.acknowledged":
    case "conflict.resolved": {
      const p = event.payload;
      const parties = partyRecipients([
        { sessionId: p.sessionId, userId: p.userId },
        { sessionId: p.otherSessionId, userId: p.otherUserId },
      ]);
      return exceptActor(parties, event.actor);
    }
    default:
      return [];
  }
}

/** The rule's recipients plus the event's explicit `notify` list, each recipient once. */
export function recipientsOf(event: NewEvent): Recipient[] {
  const all = event.notify?.length ? [...recipientsByRule(event), ...event.notify] : recipientsByRule(event);
  if (all.length <= 1) return all;
  const seen = new Set<string>();
  return all.filter((r) => {
    const key = `${r.type}:${r.id}`;
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** The alert rows for events about to be inserted with these ids (same order). */
export function alertRowsFor(orgId: string, list: NewEvent[], eventIds: string[]) {
  return list.flatMap((event, i) =>
    recipientsOf(event).map((r) => ({ id: newId(), orgId, eventId: eventIds[i]!, type: event.type, recipientType: r.type, recipientId: r.id })),
  );
}
