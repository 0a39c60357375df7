import { z } from "zod";

/** Who made a change: a user (personal token), an agent's session, or Brigade itself. */
export const actorSchema = z
  .object({
    type: z.enum(["user", "session", "system"]),
    id: z.string().nullable(),
    userId: z.string().nullable().optional(),
  })
  .meta({ id: "Actor" });
export type Actor = z.infer<typeof actorSchema>;

export const subjectRefSchema = z.object({ type: z.string(), id: z.string() }).meta({ id: "SubjectRef" });
export type SubjectRef = z.infer<typeof subjectRefSchema>;

export const systemActor: Actor = { type: "system", id: null };

/** Whom an alert can be addressed to. */
export const recipientTypes = ["session", "user", "team"] as const;
export type RecipientType = (typeof recipientTypes)[number];
export const recipientSchema = z.object({ type: z.enum(recipientTypes), id: z.string() }).meta({ id: "Recipient" });
export type Recipient = z.infer<typeof recipientSchema>;

/** The fields every event carries, whatever its type. */
export const envelopeFields = {
  id: z.string(),
  seq: z.number().int(),
  orgId: z.string(),
  time: z.iso.datetime({ offset: true }),
  actor: actorSchema,
  subject: subjectRefSchema,
  repo: z.string().nullable(),
  position: z.number().int().nullable().describe("Delivery order, set when the event is published; null while it waits in the outbox."),
};

/**
 * An event as the log stores it and the bus carries it, its payload not yet read by type. The
 * API describes events by type (`Event` in openapi.yaml, composed in `modules/catalog.ts`);
 * delivery reads bus messages with this looser shape, which every type satisfies.
 */
export const storedEventSchema = z.object({ ...envelopeFields, type: z.string(), payload: z.record(z.string(), z.unknown()) });
export type EventEnvelope = z.infer<typeof storedEventSchema>;
