import { z } from "zod";
import { defineEvent, defineEvents, nobody } from "../../events/catalog.js";
import type { Recipient } from "../../events/envelope.js";

/** Whom a message is for: one agent's session, one user, a team's members, everyone. */
export const audienceKinds = ["session", "user", "team", "organisation"] as const;
export const importances = ["low", "normal", "high", "urgent"] as const;
/** What a message can be about; its thread is then found from that object. */
export const aboutKinds = ["claim", "conflict", "handoff", "contract", "proposal", "path"] as const;

/**
 * Message events carry who, to whom and how urgent, never the subject or the body: the event
 * log is read more widely (leads see every event) than a thread is, so the words stay behind
 * the thread's own read rules (`GET /v1/threads/{id}`).
 */
const sentPayload = z.object({
  messageId: z.string(),
  threadId: z.string(),
  parentId: z.string().nullable(),
  userId: z.string().describe("The sender."),
  senderSessionId: z.string().nullable(),
  to: z.object({ type: z.enum(audienceKinds), id: z.string().nullable() }),
  importance: z.enum(importances),
  ackRequired: z.boolean(),
});

/** The audience of a message as alert recipients (the organisation is expanded by the sender's usecase). */
export const audienceRecipients = (to: { type: string; id: string | null }): Recipient[] =>
  to.type === "session" || to.type === "user" || to.type === "team" ? [{ type: to.type, id: to.id! }] : [];

const readThread = (threadId: string) =>
  `Read it with the MCP tool read_thread (threadId ${threadId}) or GET /v1/threads/${threadId}; answer with reply, acknowledge with ack_message.`;

/** Messages between agents, developers and leads: sent, read, acknowledged. */
export const messageEvents = defineEvents({
  "message.sent": defineEvent({
    description:
      "A message was sent (a new thread, or a reply in one). Alerts its audience (a session, a user, a team's members, or everyone in the organisation) and, for a reply, the thread's earlier senders.",
    payload: sentPayload,
    recipients: (e) => audienceRecipients(e.payload.to),
    visibility: "owner-and-leads",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) =>
      `${names.user(p.userId)} sent ${p.parentId ? "a reply" : "a message"}${p.importance === "high" || p.importance === "urgent" ? ` (${p.importance})` : ""}${p.ackRequired ? " that needs your acknowledgement" : ""}`,
    next: (e) => readThread(e.payload.threadId),
  }),
  "message.read": defineEvent({
    description: "A reader (a user, or an agent's session) opened a message for the first time.",
    payload: z.object({
      messageId: z.string(),
      threadId: z.string(),
      userId: z.string().describe("The reader."),
      readerSessionId: z.string().nullable(),
    }),
    recipients: nobody,
    visibility: "owner-and-leads",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) => `${p.readerSessionId ? names.session(p.readerSessionId) : names.user(p.userId)} read a message`,
    next: null,
  }),
  "message.acknowledged": defineEvent({
    description: "A reader acknowledged a message that asked for it. Alerts the sender.",
    payload: z.object({
      messageId: z.string(),
      threadId: z.string(),
      userId: z.string().describe("Who acknowledged."),
      readerSessionId: z.string().nullable(),
      senderUserId: z.string(),
    }),
    recipients: (e) => (e.payload.senderUserId === e.payload.userId ? [] : [{ type: "user", id: e.payload.senderUserId }]),
    visibility: "owner-and-leads",
    users: ["userId", "senderUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) =>
      `${p.readerSessionId ? names.session(p.readerSessionId) : names.user(p.userId)} acknowledged your message`,
    next: (e) => `See who has acknowledged: GET /v1/messages/${e.payload.messageId}/receipts`,
  }),
});
