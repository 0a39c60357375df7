import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "../../infra/db.js";
import type { ClaimIndexCache } from "../claims/claims.index.js";

export interface OwnershipDeps {
  db: Db;
  cache: ClaimIndexCache;
}

export const ownershipRoutes: FastifyPluginAsyncZod<{ deps: OwnershipDeps }> = async () => {};
