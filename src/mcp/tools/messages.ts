import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ok, type BrigadeClient, type Message } from "../../sdk/client.js";
import { peopleOf, sessionIdArg, sessionScope, text, tool, type McpContext, registerTool } from "./shared.js";

const messageId = z.uuid().describe("The message's id, from inbox, read_thread, search_messages or a Brigade notice");
const importance = z
  .enum(["low", "normal", "high", "urgent"])
  .optional()
  .describe("How urgent (default normal); high and urgent are called out to the reader");
const cursor = z.string().max(200).optional().describe("nextCursor from the previous page");
const limit = z.number().int().min(1).max(200).optional().describe("At most this many (default 20)");

/** One line per message: what an agent needs to decide whether to open it, and the ids to act on it. */
function messageLine(m: Message, person: (userId: string) => string): string {
  const flags = [
    m.importance === "high" || m.importance === "urgent" ? m.importance : "",
    m.ackRequired ? (m.acknowledgedAt ? "directive, acknowledged" : "directive: acknowledge with ack_message") : "",
    m.readAt ? "" : "unread",
  ].filter(Boolean);
  return (
    `- [${m.id}] ${m.createdAt} from ${person(m.from.userId)}${m.from.sessionId ? "'s agent" : ""}: "${m.subject}"` +
    `${m.parentId ? " (reply)" : ""} thread ${m.threadId}${flags.length ? ` (${flags.join("; ")})` : ""}`
  );
}

const more = (nextCursor: string | null) => (nextCursor ? `\nMore: call again with cursor ${nextCursor}.` : "");

export function registerMessageTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);
  /** Messages are read and acknowledged per reader: the session's own token when held, else the caller as a user. */
  const readerClient = (sessionId: string | undefined): BrigadeClient => {
    const s = sessionId ? sessionFor(sessionId) : ctx.current();
    return s ? clientFor(s) : ctx.client();
  };

  registerTool(
    server,
    "send_message",
    {
      title: "Send a message",
      description:
        "Start a new thread: tell another agent's session, a developer, a team (leads and admins: any team; members: their own) or the whole organisation (leads and admins) something they should know. " +
        "Find session and user ids with list_sessions. Set ackRequired for a directive every recipient agent must acknowledge (ack_message); it keeps being shown to them until they do. " +
        "Replies arrive in your inbox; answer in the same thread with reply.",
      inputSchema: {
        to: z.enum(["session", "user", "team", "organisation"]).describe("Who it is for"),
        toId: z.uuid().optional().describe("The session, user or team id; omit for the organisation"),
        subject: z.string().trim().min(1).max(200).describe("One line the recipient sees first"),
        body: z.string().min(1).max(32_768).describe("Markdown: what happened, what you need, by when"),
        importance,
        ackRequired: z.boolean().optional().describe("A directive: each recipient agent must acknowledge it (default false)"),
        until: z.iso
          .datetime({ offset: true })
          .optional()
          .describe("For a directive: sessions that start before this time receive it too (ISO 8601)"),
        about: z
          .object({
            type: z.enum(["claim", "conflict", "handoff", "contract", "proposal", "path"]),
            id: z.string().min(1).max(1024).describe("The object's id; for a path, the repository"),
            path: z.string().min(1).max(4096).optional().describe("For type path: the path in the repository"),
          })
          .optional()
          .describe("What it is about, so the thread can be found from that object"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const m = await ok(
        readerClient(args.sessionId).api.POST("/v1/messages", {
          body: {
            to: { type: args.to, ...(args.toId ? { id: args.toId } : {}) },
            subject: args.subject,
            body: args.body,
            ...(args.importance ? { importance: args.importance } : {}),
            ...(args.ackRequired ? { ackRequired: true } : {}),
            ...(args.until ? { until: args.until } : {}),
            ...(args.about ? { about: args.about } : {}),
          },
        }),
      );
      return text(
        `Sent message ${m.id} ("${m.subject}") to ${m.to.type}${m.to.id ? ` ${m.to.id}` : ""}; thread ${m.threadId}. ` +
          `Replies will show in inbox (and in your Brigade notices); read them with read_thread.${m.ackRequired ? " Each recipient agent must acknowledge it." : ""}`,
        m,
      );
    }),
  );

  registerTool(
    server,
    "reply",
    {
      title: "Reply in a thread",
      description:
        "Answer a message in its thread (the thread keeps its audience; everyone who wrote in it hears of your reply). Use the messageId of the message you answer, from inbox, read_thread or a Brigade notice.",
      inputSchema: {
        messageId,
        body: z.string().min(1).max(32_768).describe("Markdown"),
        importance,
        ackRequired: z.boolean().optional().describe("Ask the readers to acknowledge this reply (default false)"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const m = await ok(
        readerClient(args.sessionId).api.POST("/v1/messages/{id}/replies", {
          params: { path: { id: args.messageId } },
          body: {
            body: args.body,
            ...(args.importance ? { importance: args.importance } : {}),
            ...(args.ackRequired ? { ackRequired: true } : {}),
          },
        }),
      );
      return text(`Replied (message ${m.id}) in thread ${m.threadId} ("${m.subject}"). The thread's readers are told.`, m);
    }),
  );

  registerTool(
    server,
    "inbox",
    {
      title: "Your messages",
      description:
        "Messages for this session (or for you): unread ones by default, newest first, each with its id, sender, subject and thread. " +
        "Open one with read_thread (that marks it read), answer with reply, acknowledge directives with ack_message. needsAck lists directives you have not acknowledged yet.",
      inputSchema: {
        unreadOnly: z.boolean().optional().describe("Only unread messages (default true; false: everything in your inbox)"),
        needsAck: z.boolean().optional().describe("Only directives you have not acknowledged"),
        threadId: z.uuid().optional().describe("Only this thread's messages"),
        fromUserId: z.uuid().optional().describe("Only messages from this user"),
        sent: z.boolean().optional().describe("What you sent instead of what you received"),
        limit,
        cursor,
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const client = readerClient(args.sessionId);
      const page = await ok(
        client.api.GET("/v1/messages", {
          params: {
            query: {
              ...(args.unreadOnly === false || args.sent || args.needsAck ? {} : { unread: "true" }),
              ...(args.needsAck ? { needsAck: "true" } : {}),
              ...(args.threadId ? { thread: args.threadId } : {}),
              ...(args.fromUserId ? { from: args.fromUserId } : {}),
              ...(args.sent ? { box: "sent" as const } : {}),
              limit: args.limit ?? 20,
              ...(args.cursor ? { cursor: args.cursor } : {}),
            },
          },
        }),
      );
      if (page.items.length === 0)
        return text(
          args.needsAck ? "No directives waiting for your acknowledgement." : args.sent ? "You have sent nothing." : "No unread messages.",
          page,
        );
      const person = await peopleOf(client);
      return text(
        `${page.items.map((m) => messageLine(m, person)).join("\n")}\nOpen one with read_thread (threadId); answer with reply (messageId).${more(page.nextCursor)}`,
        page,
      );
    }),
  );

  registerTool(
    server,
    "read_thread",
    {
      title: "Read a thread",
      description:
        "Every message of a thread, oldest first, with the full bodies; the unread ones are marked read for this session. A thread's id is its first message's id (threadId in inbox and notices).",
      inputSchema: {
        threadId: z.uuid().describe("The thread's id (threadId in inbox, search_messages or a notice)"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const client = readerClient(args.sessionId);
      const thread = await ok(client.api.GET("/v1/threads/{id}", { params: { path: { id: args.threadId } } }));
      // Reading the thread is reading its messages: mark them, so they leave the unread inbox and notices.
      for (const m of thread.messages.filter((x) => !x.readAt))
        await ok(client.api.POST("/v1/messages/{id}/read", { params: { path: { id: m.id } }, body: {} }));
      const person = await peopleOf(client);
      const waiting = thread.messages.filter((m) => m.ackRequired && !m.acknowledgedAt);
      const lines = thread.messages.map(
        (m) =>
          `--- ${m.id} ${m.createdAt} from ${person(m.from.userId)}${m.from.sessionId ? "'s agent" : ""}` +
          `${m.ackRequired ? (m.acknowledgedAt ? " (directive, acknowledged)" : " (directive: acknowledge with ack_message)") : ""}\n${m.body}`,
      );
      const last = thread.messages[thread.messages.length - 1]!;
      return text(
        `Thread ${thread.id}: "${thread.subject}"${thread.muted ? " (muted)" : ""}, ${thread.messages.length} message(s)\n${lines.join("\n")}\n` +
          `Answer with reply (messageId ${last.id}).${waiting.length ? ` Acknowledge with ack_message: ${waiting.map((m) => m.id).join(", ")}.` : ""}`,
        thread,
      );
    }),
  );

  registerTool(
    server,
    "ack_message",
    {
      title: "Acknowledge a message",
      description:
        "Acknowledge a message, above all a directive (ackRequired): it stops being shown to this session and its sender sees that you did. Acknowledging twice changes nothing.",
      inputSchema: { messageId, sessionId: sessionIdArg },
    },
    tool(async (args) => {
      const client = readerClient(args.sessionId);
      const before = await ok(client.api.GET("/v1/messages/{id}", { params: { path: { id: args.messageId } } }));
      if (before.acknowledgedAt)
        return text(
          `Message ${before.id} ("${before.subject}") was already acknowledged at ${before.acknowledgedAt}; nothing changed.`,
          before,
        );
      const m = await ok(client.api.POST("/v1/messages/{id}/ack", { params: { path: { id: args.messageId } }, body: {} }));
      return text(`Acknowledged message ${m.id} ("${m.subject}"); its sender is told.`, m);
    }),
  );

  registerTool(
    server,
    "search_messages",
    {
      title: "Search messages",
      description:
        'Full-text search over every message you may read (received, sent, and for leads their teams\' threads), newest first. Words, "quoted phrases", -excluded words. Open a hit with read_thread.',
      inputSchema: {
        query: z.string().trim().min(1).max(500).describe('e.g. migration "user table" -draft'),
        limit,
        cursor,
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const client = readerClient(args.sessionId);
      const page = await ok(
        client.api.GET("/v1/messages/search", {
          params: { query: { q: args.query, limit: args.limit ?? 20, ...(args.cursor ? { cursor: args.cursor } : {}) } },
        }),
      );
      if (page.items.length === 0) return text(`No messages match ${JSON.stringify(args.query)}.`, page);
      const person = await peopleOf(client);
      return text(
        `${page.items.length} message(s) match ${JSON.stringify(args.query)}:\n${page.items.map((m) => messageLine(m, person)).join("\n")}\nOpen one with read_thread (threadId).${more(page.nextCursor)}`,
        page,
      );
    }),
  );
}
