import type { Config } from "../../config.js";
import { appendEvents } from "../../events/append.js";
import { transaction, type Db } from "../../infra/db.js";
import { perOrgCache } from "../../infra/per-org-cache.js";
import { actorOf } from "../identity/guards.js";
import { limitsEvents } from "./limits.events.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { limitsErrors, type LimitName } from "./limits.errors.js";
import * as repo from "./limits.repository.js";
import type { LimitsPatch } from "./limits.schemas.js";

export type LimitSettings = Record<LimitName, number>;

/** What per-token limits count by: the token, else its user (the bootstrap secret, an OIDC token). */
export const tokenKeyOf = (p: Pick<Principal, "tokenId" | "userId">) => (p.tokenId ? `token:${p.tokenId}` : `user:${p.userId}`);

type LimitsConfig = Pick<
  Config,
  | "RATE_LIMIT_WINDOW_SECONDS"
  | "RATE_LIMIT_TOKEN_REQUESTS"
  | "RATE_LIMIT_ORG_REQUESTS"
  | "RATE_LIMIT_MESSAGES_PER_SENDER"
  | "QUOTA_CLAIM_PATTERNS_PER_ORG"
  | "QUOTA_CLAIM_PATTERNS_PER_SESSION"
  | "QUOTA_SOCKETS_PER_TOKEN"
  | "QUOTA_SUBSCRIPTIONS_PER_SOCKET"
  | "QUOTA_SUBSCRIPTIONS_PER_TOKEN"
  | "QUOTA_CONTRACT_BYTES_PER_ORG"
  | "EVENT_RETENTION_DAYS"
>;

export function defaultLimits(config: LimitsConfig): LimitSettings {
  return {
    tokenRequests: config.RATE_LIMIT_TOKEN_REQUESTS,
    orgRequests: config.RATE_LIMIT_ORG_REQUESTS,
    messagesPerSender: config.RATE_LIMIT_MESSAGES_PER_SENDER,
    claimPatternsPerOrg: config.QUOTA_CLAIM_PATTERNS_PER_ORG,
    claimPatternsPerSession: config.QUOTA_CLAIM_PATTERNS_PER_SESSION,
    socketsPerToken: config.QUOTA_SOCKETS_PER_TOKEN,
    subscriptionsPerSocket: config.QUOTA_SUBSCRIPTIONS_PER_SOCKET,
    subscriptionsPerToken: config.QUOTA_SUBSCRIPTIONS_PER_TOKEN,
    contractBytesPerOrg: config.QUOTA_CONTRACT_BYTES_PER_ORG,
    // Messages follow the event log's retention unless the organisation keeps them otherwise.
    messageRetentionDays: config.EVENT_RETENTION_DAYS,
  };
}

const limitNames = Object.keys(defaultLimits({} as LimitsConfig)) as LimitName[];

/**
 * How long an organisation's limits are served from memory. Another replica's change reaches
 * this one within it; the replica that made the change sees it at once.
 */
const CACHE_MS = 5_000;

export interface LimitsDeps {
  db: Db;
  config: LimitsConfig;
}

/** The limits in force per organisation: the configured defaults with the operator's overrides, cached. */
export function createLimits({ db, config }: LimitsDeps) {
  const defaults = defaultLimits(config);
  const cache = perOrgCache(CACHE_MS, (orgId) =>
    repo.findOrgLimits(db, orgId).then((row) => {
      const overrides = limitNames.filter((name) => row?.[name] != null);
      const limits = { ...defaults };
      for (const name of overrides) limits[name] = row![name]!;
      return { limits, overrides };
    }),
  );
  const load = cache.get;

  const present = (orgId: string, found: { limits: LimitSettings; overrides: LimitName[] }) => ({
    orgId,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
    limits: found.limits,
    overrides: found.overrides,
  });

  async function operatorsOrg(principal: Principal, org: string) {
    if (!principal.isOperator) throw identityErrors.forbidden("Only the instance operator can read or set an organisation's limits.");
    const orgId = await repo.findOrgId(db, org);
    if (!orgId) throw limitsErrors.orgNotFound(`No organisation ${JSON.stringify(org)}.`);
    return orgId;
  }

  return {
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
    /** The limits in force for the organisation. */
    forOrg: async (orgId: string): Promise<LimitSettings> => (await load(orgId)).limits,

    async get(principal: Principal, org: string) {
      const orgId = await operatorsOrg(principal, org);
      return present(orgId, await load(orgId));
    },

    async set(principal: Principal, org: string, patch: LimitsPatch) {
      const orgId = await operatorsOrg(principal, org);
      const changed = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Record<string, number | null>;
      await transaction(db, async (tx) => {
        await repo.upsertOrgLimits(tx, orgId, patch);
        // The operator acts from its own organisation; the audit trail still names who did it.
        if (Object.keys(changed).length)
          await appendEvents(tx, orgId, [
            limitsEvents.event({
              type: "org.limits_changed",
              actor: actorOf(principal),
              subject: { type: "org", id: orgId },
              payload: { changed },
            }),
          ]);
      });
      cache.forget(orgId);
      return present(orgId, await load(orgId));
    },
  };
}

export type Limits = ReturnType<typeof createLimits>;

/** Request counters of ended windows, removed by a periodic sweep. */
export const sweepRateCounters = ({ db }: Pick<LimitsDeps, "db">) => repo.deleteEndedCounters(db);
