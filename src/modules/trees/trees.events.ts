import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** Repository trees: the tracked-file lists conflicts are classified against. */
export const treeEvents = defineEvents({
  "tree.updated": defineEvent({
    description:
      "A repo's tracked-file list was uploaded (whole, or as a delta against the previous one). Every replica reloads its cached copy.",
    payload: z.object({
      treeId: z.string(),
      branch: z.string().nullable(),
      files: z.number(),
      delta: z.boolean(),
      sessionId: z.string().nullable(),
    }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} uploaded the file list of ${e.repo ?? ""} (${e.payload.files} files)`,
  }),
});
