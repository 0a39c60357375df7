import { z } from "zod";
import { eventSchema } from "../events/events.schemas.js";
import { recipientTypes } from "./alerts.table.js";

export const recipientSchema = z.object({ type: z.enum(recipientTypes), id: z.string() }).meta({ id: "Recipient" });
export type Recipient = z.infer<typeof recipientSchema>;

/** An alert as the API returns it and as it travels on `brigade.<org>.alerts.<type>.<id>`. */
export const alertSchema = z
  .object({
    id: z.string(),
    type: z.string().describe("The event type, e.g. claim.conflicted."),
    recipient: recipientSchema,
    createdAt: z.iso.datetime({ offset: true }),
    ackedAt: z.iso.datetime({ offset: true }).nullable(),
    ackedBy: z.object({ type: z.enum(["user", "session"]), id: z.string() }).nullable(),
    event: eventSchema,
  })
  .meta({ id: "Alert" });
export type Alert = z.infer<typeof alertSchema>;
