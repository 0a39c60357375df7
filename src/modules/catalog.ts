import { z } from "zod";
import { composeCatalogs } from "../events/catalog.js";
import { envelopeFields } from "../events/envelope.js";
import { claimEvents } from "./claims/claims.events.js";
import { conflictEvents } from "./conflicts/conflicts.events.js";
import { contractEvents } from "./contracts/contracts.events.js";
import { identityEvents } from "./identity/identity.events.js";
import { limitsEvents } from "./limits/limits.events.js";
import { messageEvents } from "./messages/messages.events.js";
import { ownershipEvents } from "./ownership/ownership.events.js";
import { repoEvents } from "./repos/repos.events.js";
import { sessionEvents } from "./sessions/sessions.events.js";
import { treeEvents } from "./trees/trees.events.js";

/**
 * Every domain's event catalog, composed: what delivery, the API description and the local
 * tools look event types up in. It imports the domains' `*.events.ts` files only (zod and the
 * kernel), so the SDK and the dashboard can load it without the server.
 */
const catalogs = [
  identityEvents,
  sessionEvents,
  claimEvents,
  conflictEvents,
  ownershipEvents,
  repoEvents,
  contractEvents,
  messageEvents,
  limitsEvents,
  treeEvents,
] as const;
export const eventRegistry = composeCatalogs(...catalogs);

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type AllDefinitions = UnionToIntersection<(typeof catalogs)[number]["definitions"]>;

/** Every event type this build knows. */
export type EventType = keyof AllDefinitions & string;

type EnvelopeFields = { [K in keyof typeof envelopeFields]: z.infer<(typeof envelopeFields)[K]> };
/** An event of any known type, its payload typed by its type. */
export type BrigadeEvent = { [T in EventType]: EnvelopeFields & { type: T; payload: z.infer<AllDefinitions[T]["payload"]> } }[EventType];

const typeName = (type: string) =>
  `${type
    .split(/[._]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("")}Event`;

/** An event as the API and the stream send it: a union of every type, discriminated by `type`. */
const eventVariants = Object.entries(
  Object.assign({}, ...catalogs.map((c) => c.definitions)) as Record<string, { description: string; payload: z.ZodType }>,
).map(([type, definition]) =>
  z
    .object({ ...envelopeFields, type: z.literal(type), payload: definition.payload })
    .meta({ id: typeName(type), description: definition.description }),
);
export const eventSchema = z
  .discriminatedUnion("type", eventVariants as unknown as [(typeof eventVariants)[number], ...(typeof eventVariants)[number][]])
  .meta({ id: "Event" }) as unknown as z.ZodType<BrigadeEvent, BrigadeEvent>;

export const eventPageSchema = z
  .object({
    items: z.array(eventSchema),
    nextCursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last."),
  })
  .meta({ id: "EventPage" });
