import { z } from "zod";

const count = (what: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .nullable()
    .optional()
    .describe(`${what}; 0 turns the limit off, null returns to the configured default.`);

export const limitsPatchBody = z
  .object({
    tokenRequests: count("Requests per token per window"),
    orgRequests: count("Requests per organisation per window"),
    messagesPerSender: count("Messages one user may send per window (new threads and replies)"),
    claimPatternsPerOrg: count("Patterns the organisation's active claims may hold"),
    claimPatternsPerSession: count("Patterns one session's active claims may hold"),
    socketsPerToken: count("/v1/stream sockets per token, over every replica"),
    subscriptionsPerSocket: count("Subscriptions per /v1/stream socket"),
    subscriptionsPerToken: count("Subscriptions per token over its sockets, on every replica"),
    contractBytesPerOrg: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .nullable()
      .optional()
      .describe("Bytes of contract content the organisation may store; 0 turns the limit off, null returns to the default."),
    messageRetentionDays: z
      .number()
      .int()
      .min(0)
      .max(36_500)
      .nullable()
      .optional()
      .describe(
        "Days a message thread is kept after its last message; 0 keeps messages forever, null returns to the default (EVENT_RETENTION_DAYS, the event log's).",
      ),
  })
  .strict()
  .meta({ id: "LimitsPatch" });

export type LimitsPatch = z.infer<typeof limitsPatchBody>;

const effective = z.number().int().describe("In force: the organisation's own value or the default; 0 means no limit.");

export const limitsSchema = z
  .object({
    orgId: z.uuid(),
    windowSeconds: z.number().int().describe("The window request limits count in (RATE_LIMIT_WINDOW_SECONDS)."),
    limits: z.object({
      tokenRequests: effective,
      orgRequests: effective,
      messagesPerSender: effective,
      claimPatternsPerOrg: effective,
      claimPatternsPerSession: effective,
      socketsPerToken: effective,
      subscriptionsPerSocket: effective,
      subscriptionsPerToken: effective,
      contractBytesPerOrg: effective,
      messageRetentionDays: effective,
    }),
    overrides: z.array(z.string()).describe("The limits set for this organisation; the others follow the configured defaults."),
  })
  .meta({ id: "Limits" });

export const orgParams = z.object({
  org: z.string().min(1).max(200).describe("The organisation's id or slug."),
});
