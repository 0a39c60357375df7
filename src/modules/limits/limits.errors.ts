import { AppError, defineErrors } from "../../http/problem.js";

export const limitsErrors = defineErrors({
  orgNotFound: [404, "orgs.not_found"],
});

/** Which limit a refusal names, as the limits API and the README spell it. */
export type LimitName =
  | "tokenRequests"
  | "orgRequests"
  | "messagesPerSender"
  | "claimPatternsPerOrg"
  | "claimPatternsPerSession"
  | "socketsPerToken"
  | "subscriptionsPerSocket"
  | "subscriptionsPerToken"
  | "contractBytesPerOrg"
  | "messageRetentionDays";

/** A request over its rate: 429 naming the limit; the caller sets Retry-After. */
export const rateLimited = (limit: LimitName, max: number, windowSeconds: number, retryAfterSeconds: number) =>
  new AppError(
    429,
    "rate.limited",
    `Too many requests: the ${limit} limit allows ${max} per ${windowSeconds} s; retry in ${retryAfterSeconds} s.`,
    { limit, max, windowSeconds, retryAfter: retryAfterSeconds },
  );

/** A quota reached: 429 with the owning domain's code, naming the limit and its value. */
export const quotaExceeded = (code: string, limit: LimitName, max: number, detail: string) =>
  new AppError(429, code, `${detail} (the ${limit} limit is ${max}).`, { limit, max });
