import { z } from "zod";
import { aboutKinds, audienceKinds, importances } from "./messages.events.js";

const timestamp = z.iso.datetime({ offset: true });

/** Bodies are Markdown; 32 KiB holds a long explanation with a diff excerpt, not a file dump. */
export const MAX_BODY_CHARS = 32_768;

const audience = z
  .object({
    type: z.enum(audienceKinds).describe("team and organisation: leads and admins only."),
    id: z.uuid().optional().describe("The session, user or team; omitted for the organisation."),
  })
  .strict()
  .superRefine((to, ctx) => {
    if (to.type === "organisation" && to.id !== undefined)
      ctx.addIssue({ code: "custom", path: ["id"], message: "the organisation takes no id" });
    if (to.type !== "organisation" && to.id === undefined)
      ctx.addIssue({ code: "custom", path: ["id"], message: `a ${to.type} recipient needs an id` });
  });

const about = z
  .object({
    type: z.enum(aboutKinds),
    id: z.string().min(1).max(1024).describe("The object's id; for a path, the repository (as sessions name it)."),
    path: z.string().min(1).max(4096).optional().describe("For type path: the path inside the repository."),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.type === "path" && a.path === undefined) ctx.addIssue({ code: "custom", path: ["path"], message: "a path subject needs path" });
    if (a.type !== "path" && a.path !== undefined)
      ctx.addIssue({ code: "custom", path: ["path"], message: "only a path subject takes path" });
  })
  .describe("What the message is about: its thread is found from that object.");

const body = z.string().min(1).max(MAX_BODY_CHARS).describe("Markdown.");
const subject = z.string().trim().min(1).max(200);

export const sendMessageBody = z
  .object({
    to: audience,
    subject,
    body,
    importance: z.enum(importances).default("normal"),
    ackRequired: z.boolean().default(false).describe("A directive: recipients acknowledge it; the sender sees who has."),
    until: timestamp.optional().describe("For a directive: sessions that start before then receive it too."),
    about: about.optional(),
  })
  .strict();
export type SendMessageInput = z.infer<typeof sendMessageBody>;

export const replyBody = z
  .object({
    body,
    importance: z.enum(importances).default("normal"),
    ackRequired: z.boolean().default(false),
  })
  .strict();
export type ReplyInput = z.infer<typeof replyBody>;

export const messageSchema = z
  .object({
    id: z.uuid(),
    threadId: z.uuid(),
    parentId: z.uuid().nullable(),
    from: z.object({
      userId: z.uuid(),
      sessionId: z.uuid().nullable(),
      name: z.string().describe('The sender by name: display name, else e-mail, else user name; a deleted user is "deleted user".'),
      deleted: z.boolean().describe("The sender has been deleted since."),
    }),
    to: z.object({ type: z.enum(audienceKinds), id: z.uuid().nullable() }),
    subject: z.string(),
    body: z.string(),
    importance: z.enum(importances),
    ackRequired: z.boolean(),
    until: timestamp.nullable(),
    about: z.object({ type: z.enum(aboutKinds), id: z.string(), path: z.string().nullable() }).nullable(),
    createdAt: timestamp,
    readAt: timestamp.nullable().describe("When you (this token's session, or you as a user) first read it."),
    acknowledgedAt: timestamp.nullable(),
  })
  .meta({ id: "Message" });

export const messagePageSchema = z.object({ items: z.array(messageSchema), nextCursor: z.string().nullable() }).meta({ id: "MessagePage" });

export const threadSchema = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    muted: z.boolean(),
    messages: z.array(messageSchema).describe("Oldest first."),
  })
  .meta({ id: "Thread" });

const stringbool = z.stringbool();
const limit = z.coerce.number().int().min(1).max(200).default(50);

export const listMessagesQuery = z
  .object({
    unread: stringbool
      .optional()
      .describe("Only messages you have not read (muted threads left out unless they need your acknowledgement)."),
    needsAck: stringbool.optional().describe("Only directives you have not acknowledged and that are still in force."),
    thread: z.uuid().optional(),
    aboutType: z.enum(aboutKinds).optional(),
    aboutId: z.string().min(1).max(1024).optional(),
    from: z.uuid().optional().describe("Sent by this user."),
    box: z
      .enum(["inbox", "sent", "all"])
      .default("inbox")
      .describe(
        "inbox: delivered to you; sent: what you sent; all: every message you may read (your threads, a lead's teams', an admin's all), as for the thread about an object.",
      ),
    limit,
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListMessagesInput = z.infer<typeof listMessagesQuery>;

export const searchMessagesQuery = z
  .object({
    q: z.string().trim().min(1).max(500).describe('Words, "quoted phrases", -excluded (web search syntax).'),
    limit,
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type SearchMessagesInput = z.infer<typeof searchMessagesQuery>;

export const receiptsSchema = z
  .object({
    messageId: z.uuid(),
    receipts: z.array(
      z.object({
        reader: z.object({ type: z.enum(["user", "session"]), id: z.uuid() }),
        userId: z.uuid(),
        readAt: timestamp,
        acknowledgedAt: timestamp.nullable(),
      }),
    ),
    pending: z
      .array(z.object({ sessionId: z.uuid(), userId: z.uuid() }))
      .describe("Live sessions of the audience that have not acknowledged (directives; empty otherwise)."),
  })
  .meta({ id: "MessageReceipts" });
