import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { plainJson } from "../../http/plain-json.js";
import { problemResponses } from "../../http/problem.js";
import { idParams } from "../identity/identity.schemas.js";
import {
  listMessagesQuery,
  messagePageSchema,
  messageSchema,
  receiptsSchema,
  replyBody,
  searchMessagesQuery,
  sendMessageBody,
  threadSchema,
} from "./messages.schemas.js";
import * as usecases from "./messages.usecases.js";
import type { ReadMessage } from "./messages.repository.js";
import type { MessageDeps } from "./messages.usecases.js";

const iso = (d: Date | null) => d?.toISOString() ?? null;

const presentMessage = (m: ReadMessage): z.infer<typeof messageSchema> => ({
  id: m.id,
  threadId: m.threadId,
  parentId: m.parentId,
  from: { userId: m.senderUserId, sessionId: m.senderSessionId, name: m.sender.name, deleted: m.sender.deleted },
  to: { type: m.toKind, id: m.toId },
  subject: m.subject,
  body: m.body,
  importance: m.importance,
  ackRequired: m.ackRequired,
  until: iso(m.until),
  about: m.aboutKind ? { type: m.aboutKind, id: m.aboutId!, path: m.aboutPath } : null,
  createdAt: m.createdAt.toISOString(),
  readAt: iso(m.readAt),
  acknowledgedAt: iso(m.acknowledgedAt),
});

const presentPage = (page: { items: ReadMessage[]; nextCursor: string | null }) => ({
  items: page.items.map(presentMessage),
  nextCursor: page.nextCursor,
});

const presentThread = <T extends { messages: ReadMessage[] }>(thread: T) => ({ ...thread, messages: thread.messages.map(presentMessage) });

const tags = ["messages"];
const emptyBody = z.object({}).strict().nullish();

export const messageRoutes: FastifyPluginAsyncZod<{ deps: MessageDeps }> = async (app, { deps }) => {
  app.post(
    "/v1/messages",
    {
      config: { messageSend: true },
      schema: {
        tags,
        summary: "Send a message: a new thread to a session, a user, a team or (leads and admins) the organisation",
        body: sendMessageBody,
        response: { 201: messageSchema, ...problemResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(presentMessage(await usecases.sendMessage(deps, request.principal, request.body))),
  );

  app.get(
    "/v1/messages",
    {
      // An agent's hooks and MCP server read the inbox all day: its replies are plain JSON.
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: "Your inbox (or what you sent), newest first: unread, needing acknowledgement, by thread, object or sender",
        querystring: listMessagesQuery,
        response: { 200: messagePageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await usecases.listMessages(deps, request.principal, request.query);
      return presentPage(page);
    },
  );

  app.get(
    "/v1/messages/search",
    {
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: "Full-text search over the messages you may read, newest first",
        querystring: searchMessagesQuery,
        response: { 200: messagePageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await usecases.searchMessages(deps, request.principal, request.query);
      return presentPage(page);
    },
  );

  app.get(
    "/v1/messages/:id",
    {
      schema: {
        tags,
        summary: "Get a message you may read",
        params: idParams,
        response: { 200: messageSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentMessage(await usecases.getMessage(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/messages/:id/replies",
    {
      config: { messageSend: true },
      schema: {
        tags,
        summary: "Reply in a message's thread (the thread keeps its audience; earlier writers are alerted too)",
        params: idParams,
        body: replyBody,
        response: { 201: messageSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentMessage(await usecases.reply(deps, request.principal, request.params.id, request.body))),
  );

  app.post(
    "/v1/messages/:id/read",
    {
      schema: {
        tags,
        summary: "Mark a message read (idempotent; a session token marks it for its session)",
        params: idParams,
        body: emptyBody,
        response: { 200: messageSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentMessage(await usecases.markRead(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/messages/:id/ack",
    {
      schema: {
        tags,
        summary: "Acknowledge a message (idempotent; a session token acknowledges for its session); the sender is alerted",
        params: idParams,
        body: emptyBody,
        response: { 200: messageSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentMessage(await usecases.acknowledge(deps, request.principal, request.params.id)),
  );

  app.get(
    "/v1/messages/:id/receipts",
    {
      schema: {
        tags,
        summary: "Who has read and acknowledged a message, and which live sessions of its audience have not (sender, leads, admins)",
        params: idParams,
        response: { 200: receiptsSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { message, receipts, pending } = await usecases.receipts(deps, request.principal, request.params.id);
      return {
        messageId: message.id,
        receipts: receipts.map((r) => ({
          reader: { type: r.readerKind, id: r.readerId },
          userId: r.userId,
          readAt: r.readAt.toISOString(),
          acknowledgedAt: iso(r.acknowledgedAt),
        })),
        pending,
      };
    },
  );

  app.get(
    "/v1/threads/:id",
    {
      schema: {
        tags,
        summary: "A thread you may read, oldest message first",
        params: idParams,
        response: { 200: threadSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const thread = await usecases.getThread(deps, request.principal, request.params.id);
      return presentThread(thread);
    },
  );

  app.put(
    "/v1/threads/:id/mute",
    {
      schema: {
        tags,
        summary: "Mute a thread for yourself: left out of your unread inbox and its alerts to you alone (directives still reach you)",
        params: idParams,
        body: emptyBody,
        response: { 200: threadSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const thread = await usecases.setMuted(deps, request.principal, request.params.id, true);
      return presentThread(thread);
    },
  );

  app.delete(
    "/v1/threads/:id/mute",
    {
      schema: { tags, summary: "Unmute a thread", params: idParams, response: { 200: threadSchema, ...problemResponses(400, 401, 404) } },
    },
    async (request) => {
      const thread = await usecases.setMuted(deps, request.principal, request.params.id, false);
      return presentThread(thread);
    },
  );
};
