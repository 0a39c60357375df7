import t from "tap";
import type { z } from "zod";
import type { alertSchema } from "../../src/modules/delivery/alerts.schemas.js";
import type { conflictRecordSchema } from "../../src/modules/conflicts/conflicts.schemas.js";
import type { claimSchema } from "../../src/modules/claims/claims.schemas.js";
import type { contractSchema, proposalSchema, versionDetailSchema, versionSchema } from "../../src/modules/contracts/contracts.schemas.js";
import type { eventSchema } from "../../src/modules/catalog.js";
import type { ServerFrame } from "../../src/modules/delivery/stream.schemas.js";
import type { meSchema, teamSchema, userSchema } from "../../src/modules/identity/identity.schemas.js";
import type { overviewSchema } from "../../src/modules/overview/overview.schemas.js";
import type { codeownersFileSchema, ownersSchema } from "../../src/modules/ownership/ownership.schemas.js";
import type { sessionSchema } from "../../src/modules/sessions/sessions.schemas.js";
import type * as Web from "../../web/src/api/types.js";

/**
 * The dashboard reads the API through the SDK's generated types (web/src/api/types.ts, from
 * openapi.yaml). Each line below fails `npm run typecheck` when the server's schema stops
 * fitting the type the dashboard uses, so a change to the API cannot silently break the page.
 */
type Fits<Server, Client> = [Server] extends [Client] ? true : false;
const fits: true[] = [
  true satisfies Fits<z.infer<typeof sessionSchema>, Web.Session>,
  true satisfies Fits<z.infer<typeof claimSchema>, Web.Claim>,
  true satisfies Fits<z.infer<typeof conflictRecordSchema>, Web.ConflictRecord>,
  true satisfies Fits<z.infer<typeof eventSchema>, Web.BrigadeEvent>,
  true satisfies Fits<z.infer<typeof alertSchema>, Web.Alert>,
  true satisfies Fits<z.infer<typeof overviewSchema>, Web.Overview>,
  true satisfies Fits<z.infer<typeof codeownersFileSchema>, Web.CodeownersFile>,
  true satisfies Fits<z.infer<typeof ownersSchema>, Web.PathOwners>,
  true satisfies Fits<z.infer<typeof contractSchema>, Web.Contract>,
  true satisfies Fits<z.infer<typeof versionSchema>, Web.ContractVersion>,
  true satisfies Fits<z.infer<typeof versionDetailSchema>, Web.ContractVersionDetail>,
  true satisfies Fits<z.infer<typeof proposalSchema>, Web.ContractProposal>,
  true satisfies Fits<z.infer<typeof userSchema>, Web.User>,
  true satisfies Fits<z.infer<typeof teamSchema>, Web.Team>,
  true satisfies Fits<z.infer<typeof meSchema>, Web.Me>,
  true satisfies Fits<ServerFrame, Web.ServerFrame>,
];

t.test("when the server's schemas change, then the dashboard's API types still fit them (checked by npm run typecheck)", async (t) => {
  t.equal(fits.length, 16);
});
