import { z } from "zod";
import { TYPE_FILTER } from "../../events/visibility.js";
import { storedEventSchema } from "../../events/envelope.js";
import type { BrigadeEvent } from "../catalog.js";
import { type alertSchema, deliveredAlertSchema } from "./alerts.schemas.js";

/**
 * The `/v1/stream` WebSocket protocol: JSON text frames, one message each. The server and the
 * SDK (src/sdk/subscribe.ts) share these schemas. docs/architecture.md, "Live stream",
 * describes the protocol in prose.
 */
export const STREAM_PROTOCOL_VERSION = 1;

/** Largest frame a client may send; a larger one closes the socket with 1009 (ws). */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;
/** Subscriptions one socket may hold at once. */
export const MAX_SUBSCRIPTIONS = 32;

/** Close codes the server uses, besides the standard 1000 / 1001 / 1009. */
export const closeCodes = {
  /** The server is shutting down or restarting: reconnect (to any replica) and resume. */
  goingAway: 1001,
  /** A client frame exceeded MAX_CLIENT_FRAME_BYTES (sent by ws itself). */
  tooBig: 1009,
  /** Unexpected server failure; reconnect and resume. */
  internal: 1011,
  /** The client did not read fast enough: too much was waiting to be sent. Reconnect and resume with `after`. */
  slowConsumer: 4008,
  /** The credential stopped being valid while connected (revoked, expired, its session ended). Do not retry with it. */
  unauthorized: 4401,
  /** The token already holds as many sockets as its organisation allows (socketsPerToken). */
  tooManySockets: 4029,
} as const;

const subscriptionId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, "must be 1-64 letters, digits, '_', '.', ':' or '-'")
  .describe("The client's name for the subscription; server messages about it carry it.");
const typeFilter = z.string().max(100).regex(TYPE_FILTER, "must be an event type (claim.granted) or a prefix ending in . or .* (claim.)");
const after = z.uuid().describe("Replay from the event log after this event (by delivery position), then go live: no gap, no duplicate.");

export const subscribeEventsFrame = z
  .object({
    type: z.literal("subscribe"),
    id: subscriptionId,
    topic: z.literal("events"),
    filter: z
      .object({
        repo: z.string().min(1).max(1024).optional(),
        team: z.uuid().optional(),
        user: z.uuid().optional(),
        type: typeFilter.optional(),
      })
      .strict()
      .optional(),
    after: after.optional(),
  })
  .strict();

export const subscribeAlertsFrame = z
  .object({
    type: z.literal("subscribe"),
    id: subscriptionId,
    topic: z.literal("alerts"),
    session: z.uuid().optional().describe("Only this session's alerts (yours; any in the organisation for leads and admins)."),
    user: z.uuid().optional().describe("That user's alerts, their sessions' and their teams' (leads and admins; default: yours)."),
    filter: z.object({ type: typeFilter.optional() }).strict().optional(),
    after: after.optional(),
    seen: z
      .array(z.uuid())
      .max(100)
      .optional()
      .describe("Alert ids of the `after` event the client already holds; given, the replay starts at that event and skips them."),
  })
  .strict();

export const unsubscribeFrame = z.object({ type: z.literal("unsubscribe"), id: subscriptionId }).strict();
export const pingFrame = z.object({ type: z.literal("ping"), id: z.string().max(64).optional() }).strict();

export type SubscribeEventsFrame = z.infer<typeof subscribeEventsFrame>;
export type SubscribeAlertsFrame = z.infer<typeof subscribeAlertsFrame>;
export type ClientFrame = SubscribeEventsFrame | SubscribeAlertsFrame | z.infer<typeof unsubscribeFrame> | z.infer<typeof pingFrame>;
export const streamTopics = ["events", "alerts"] as const;

export const serverFrameSchemas = {
  welcome: z.object({
    type: z.literal("welcome"),
    protocol: z.number().int(),
    orgId: z.string(),
    userId: z.string(),
    sessionId: z.string().nullable(),
    role: z.enum(["admin", "lead", "member"]),
    pingIntervalMs: z.number().int(),
  }),
  subscribed: z.object({ type: z.literal("subscribed"), id: z.string(), topic: z.enum(streamTopics), after: z.string().nullable() }),
  live: z.object({
    type: z.literal("live"),
    id: z.string(),
    replayed: z.number().int().describe("Messages replayed from the log before this one."),
    position: z.number().int().describe("The last delivery position sent; 0 when nothing was."),
    after: z
      .string()
      .nullable()
      .describe(
        "Where to resume this subscription (its `after`) if nothing arrives before the connection drops: the last event sent, or the latest delivered when the subscription started.",
      ),
  }),
  event: z.object({ type: z.literal("event"), sub: z.string(), event: storedEventSchema }),
  alert: z.object({ type: z.literal("alert"), sub: z.string(), alert: deliveredAlertSchema }),
  unsubscribed: z.object({ type: z.literal("unsubscribed"), id: z.string() }),
  narrowed: z
    .object({
      type: z.literal("narrowed"),
      id: z.string().describe("The subscription that now carries less; it stays active."),
      reason: z.enum(["role_changed", "team_left"]),
      role: z.enum(["admin", "lead", "member"]).optional().describe("The new role (role_changed)."),
      teamId: z.string().optional().describe("The team whose alerts were dropped (team_left)."),
      message: z.string(),
    })
    .describe("What the subscriber may see shrank while connected (a demotion, a team left)."),
  pong: z.object({ type: z.literal("pong"), id: z.string().optional() }),
  error: z.object({
    type: z.literal("error"),
    code: z.string().describe("Stable dotted code: stream.malformed, stream.invalid, auth.forbidden, events.unknown_cursor, …"),
    message: z.string(),
    id: z.string().optional().describe("The subscription the error is about, if any; it is not active."),
    errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  }),
};

export const serverFrameSchema = z.discriminatedUnion("type", [
  serverFrameSchemas.welcome,
  serverFrameSchemas.subscribed,
  serverFrameSchemas.live,
  serverFrameSchemas.event,
  serverFrameSchemas.alert,
  serverFrameSchemas.unsubscribed,
  serverFrameSchemas.narrowed,
  serverFrameSchemas.pong,
  serverFrameSchemas.error,
]);
type ReadFrame = z.infer<typeof serverFrameSchema>;
/**
 * A server frame as clients use it, its event or alert typed by the event's type. Clients parse
 * frames with `serverFrameSchema`, whose events are read as the log holds them, so a client
 * built before a new event type still takes (and passes on) events of that type.
 */
export type ServerFrame =
  | Exclude<ReadFrame, { type: "event" | "alert" }>
  | { type: "event"; sub: string; event: BrigadeEvent }
  | { type: "alert"; sub: string; alert: z.infer<typeof alertSchema> };

/** The query string of the upgrade request. */
export const streamQuery = z
  .object({
    access_token: z
      .string()
      .min(1)
      .max(8192)
      .optional()
      .describe("The bearer token, for clients that cannot set headers (browsers). The Authorization header wins when both are sent."),
    after: after.optional().describe("Default `after` for this connection's subscriptions that name none."),
  })
  .strict();
