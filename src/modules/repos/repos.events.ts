import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** A repository's settings: its code-host link template. */
export const repoEvents = defineEvents({
  "repo.link_template_set": defineEvent({
    description: "An admin set the URL template the dashboard builds a repository's code-host links from.",
    payload: z.object({ template: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} set the code-host links of ${e.repo ?? ""} to ${e.payload.template}`,
  }),
  "repo.link_template_removed": defineEvent({
    description: "An admin removed a repository's link template: its links are derived from its key again.",
    payload: z.object({}),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} removed the link template of ${e.repo ?? ""}`,
  }),
});
