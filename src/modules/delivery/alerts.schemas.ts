import { z } from "zod";
import { type Recipient, recipientSchema, storedEventSchema } from "../../events/envelope.js";
import { eventSchema } from "../catalog.js";

const alertFields = {
  id: z.string(),
  type: z.string().describe("The event type, e.g. claim.conflicted."),
  recipient: recipientSchema,
  createdAt: z.iso.datetime({ offset: true }),
  ackedAt: z.iso.datetime({ offset: true }).nullable(),
  ackedBy: z.object({ type: z.enum(["user", "session"]), id: z.string() }).nullable(),
};

/** An alert as the API returns it, its event typed by its type. */
export const alertSchema = z.object({ ...alertFields, event: eventSchema }).meta({ id: "Alert" });

/**
 * An alert as it travels on `brigade.<org>.alerts.<type>.<id>` and the stream: the same fields,
 * its event read as the log holds it, so a reader built before a new event type still takes it.
 */
export const deliveredAlertSchema = z.object({ ...alertFields, event: storedEventSchema });
export type Alert = z.infer<typeof deliveredAlertSchema>;

/** A delivered alert's own fields, for a reader that has its event validated already. */
export const deliveredAlertFieldsSchema = z.object(alertFields);

const eventType = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/, "must be an event type such as claim.conflicted");

export const listAlertsQuery = z
  .object({
    unacked: z.stringbool().optional().describe("true: only alerts not yet acknowledged; false: only acknowledged ones."),
    type: eventType.optional().describe("Only alerts of this event type."),
    since: z.iso.datetime({ offset: true }).optional().describe("Only alerts created at or after this time."),
    session: z.uuid().optional().describe("Only alerts addressed to this session (yours; any in the organisation for leads and admins)."),
    user: z.uuid().optional().describe("Whose alerts: that user's, their sessions' and their teams' (leads and admins; default: yours)."),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type ListAlertsInput = z.infer<typeof listAlertsQuery>;

export const alertPageSchema = z.object({ items: z.array(alertSchema), nextCursor: z.string().nullable() }).meta({ id: "AlertPage" });

const iso = (time: Date | string) => (typeof time === "string" ? time : time.toISOString());

/** An alert row (as drizzle reads it, or as the relay's JSON aggregate spells it) in its wire shape. */
/**
 * An alert's JSON with its event's JSON, already written, put in as is: an event's alerts (a
 * directive's 1,000) carry the same event, stringified once rather than once per alert. The event
 * goes last, as `toAlert` and the schemas have it.
 */
export function alertJsonAround(alert: Omit<Alert, "event"> & { event?: unknown }, eventJson: string): string {
  const { event: _event, ...fields } = alert;
  return `${JSON.stringify(fields).slice(0, -1)},"event":${eventJson}}`;
}

export function toAlert(row: AlertRow, event: Alert["event"]): Alert {
  return { ...alertFieldsOf(row), event };
}

/** An alert row as the API and the bus carry it, without its event (`toAlert`, `alertJsonAround`). */
export function alertFieldsOf(row: AlertRow): Omit<Alert, "event"> {
  return {
    id: row.id,
    type: row.type,
    recipient: { type: row.recipientType, id: row.recipientId },
    createdAt: iso(row.createdAt),
    ackedAt: row.ackedAt === null ? null : iso(row.ackedAt),
    ackedBy: (row.ackedBy as Alert["ackedBy"]) ?? null,
  };
}

interface AlertRow {
  id: string;
  type: string;
  recipientType: Recipient["type"];
  recipientId: string;
  createdAt: Date | string;
  ackedAt: Date | string | null;
  ackedBy: unknown;
}
