import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** The operator's changes to an organisation's own limits. */
export const limitsEvents = defineEvents({
  "org.limits_changed": defineEvent({
    description:
      "The operator set some of the organisation's own limits (a number; 0 is no limit) or returned them to the configured default (null).",
    payload: z.object({ changed: z.record(z.string(), z.number().nullable()) }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) =>
      `${actorName(e.actor, names)} set limits: ${Object.entries(e.payload.changed)
        .map(([name, value]) => `${name} ${value ?? "default"}`)
        .join(", ")}`,
  }),
});
