import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** Static ownership: a repo's CODEOWNERS and the organisation's named modules. */
export const ownershipEvents = defineEvents({
  "codeowners.updated": defineEvent({
    description: "A repo's CODEOWNERS file was uploaded; invalid lines are counted in errors.",
    payload: z.object({ rules: z.number(), errors: z.number() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} updated CODEOWNERS of ${e.repo ?? ""} (${e.payload.rules} rules)`,
  }),
  "module.updated": defineEvent({
    description: "A named module (a set of patterns owned by a team) was created or changed.",
    payload: z.object({ name: z.string(), patterns: z.array(z.string()), teamId: z.string().nullable() }),
    ...unaddressed,
    visibility: "organisation",
    team: "teamId",
    describe: (e, names) => `${actorName(e.actor, names)} updated module ${e.payload.name}`,
  }),
  "module.deleted": defineEvent({
    description: "A named module was deleted.",
    payload: z.object({ name: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} deleted module ${e.payload.name}`,
  }),
});
