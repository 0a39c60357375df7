import { type Database, type Db, type FollowUp, transaction } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import { appendEvents } from "../../events/append.js";
import type { Recipient } from "../../events/envelope.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf } from "../identity/guards.js";
import { messageErrors } from "./messages.errors.js";
import { messageEvents } from "./messages.events.js";
import * as repo from "./messages.repository.js";
import type { NewMessage, Reader, ReadMessage, WrittenMessage } from "./messages.repository.js";
import type { ListMessagesInput, ReplyInput, SearchMessagesInput, SendMessageInput } from "./messages.schemas.js";

const readerOf = (p: Principal): Reader => ({ orgId: p.orgId, userId: p.userId, role: p.role, sessionId: p.sessionId });

/** A message just written, as its writer reads it back: unread, its sender named. */
const asWritten = (m: WrittenMessage): ReadMessage => ({ ...m, readAt: null, acknowledgedAt: null });

export interface MessageDeps {
  db: Db;
  /** A send's transaction: BEGIN with its statements, COMMIT with the last (`Database.pipelinedTransaction`). */
  transaction: Database["pipelinedTransaction"];
  /** Offered the connection behind a send's COMMIT: the relay publishes its event a round trip sooner. */
  afterCommit?: FollowUp | undefined;
}

/** Whoever wrote in a thread hears of a reply, by the session they wrote from (or as a user). */
const senderRecipient = (s: { userId: string; sessionId: string | null }): Recipient =>
  s.sessionId ? { type: "session", id: s.sessionId } : { type: "user", id: s.userId };

/** The event for a new message and who is alerted, past those muting the thread (a directive reaches everyone). */
async function sentEvent(db: Db, principal: Principal, m: NewMessage, writers: { userId: string; sessionId: string | null }[]) {
  const notify: Recipient[] = [];
  if (m.toKind === "organisation") notify.push(...(await repo.organisationUsers(db, m.orgId)).map((id) => ({ type: "user" as const, id })));
  // A directive is in front of every live agent of its audience, so each session is alerted, not only its developer.
  if (m.ackRequired) notify.push(...(await repo.audienceSessions(db, m)).map((s) => ({ type: "session" as const, id: s.sessionId })));
  notify.push(...writers.map(senderRecipient));
  const actor = actorOf(principal);
  const event = messageEvents.event({
    type: "message.sent",
    actor,
    subject: { type: "message", id: m.id },
    repo: m.aboutKind === "path" ? m.aboutId : null,
    payload: {
      messageId: m.id,
      threadId: m.threadId,
      parentId: m.parentId,
      userId: m.senderUserId,
      senderSessionId: m.senderSessionId,
      to: { type: m.toKind, id: m.toId },
      importance: m.importance,
      ackRequired: m.ackRequired,
    },
    notify,
  });
  const direct = event.recipients.filter((r) => r.type === "user").map((r) => r.id);
  // A new thread's first message cannot be muted yet: nobody could mute a thread before it existed.
  const muted = m.ackRequired || m.parentId === null ? new Set<string>() : await repo.mutedBy(db, m.threadId, direct);
  // The sender does not alert itself.
  event.recipients = event.recipients.filter(
    (r) =>
      !(r.type === actor.type && r.id === actor.id) &&
      !(r.type === "user" && (muted.has(r.id) || (r.id === m.senderUserId && !m.senderSessionId))),
  );
  return event;
}

/**
 * Sends a new thread's first message. Members address a session, a user or a team they are
 * in; a team they are not in and the whole organisation are for leads and admins.
 */
export async function sendMessage(
  { db, transaction: pipelined, afterCommit }: MessageDeps,
  principal: Principal,
  input: SendMessageInput,
): Promise<ReadMessage> {
  const to = input.to;
  if (to.type === "organisation" && principal.role === "member")
    throw messageErrors.broadcastForbidden("Only leads and admins message the whole organisation.", {
      errors: [{ field: "to.type", reason: "needs lead or admin" }],
    });
  if (to.type === "team" && principal.role === "member" && !(await repo.isTeamMember(db, principal.orgId, to.id!, principal.userId))) {
    await refuseAudience(db, principal.orgId, to);
    throw messageErrors.broadcastForbidden("Members message only teams they belong to; leads and admins message any team.", {
      errors: [{ field: "to.id", reason: "not your team" }],
    });
  }
  const id = newId();
  const message: NewMessage = {
    id,
    orgId: principal.orgId,
    threadId: id,
    parentId: null,
    senderUserId: principal.userId,
    senderSessionId: principal.sessionId,
    toKind: to.type,
    toId: to.id ?? null,
    subject: input.subject,
    body: input.body,
    importance: input.importance,
    ackRequired: input.ackRequired,
    until: input.until ? new Date(input.until) : null,
    aboutKind: input.about?.type ?? null,
    aboutId: input.about?.id ?? null,
    aboutPath: input.about?.path ?? null,
  };
  // Who is alerted is read before the transaction (a new thread has no writers and no mutes), so
  // the transaction is two statements, sent with its BEGIN and COMMIT in one round trip. The
  // audience is checked by those statements themselves: if it is gone they write nothing, and
  // only then is it read again, to say why.
  const event = await sentEvent(db, principal, message, []);
  const sent = await pipelined(async (tx, commit) => {
    const [row] = await commit([
      repo.insertDelivered(tx, message, [], repo.audienceIsLive(message)),
      appendEvents(tx, principal.orgId, [event], { name: "message_written", condition: repo.messageWritten(message.id) }),
    ]);
    return row;
  }, afterCommit);
  if (!sent) {
    await refuseAudience(db, principal.orgId, to);
    // Found now, though the send's statements did not find it: it came back between the two.
    throw messageErrors.recipientNotFound(`No ${to.type} ${to.id} in this organisation could receive the message.`, {
      errors: [{ field: "to.id", reason: "not found" }],
    });
  }
  return asWritten(sent);
}

/** Throws the refusal for an audience that is not there (unknown, or a deleted user); returns when it is. */
async function refuseAudience(db: Db, orgId: string, to: SendMessageInput["to"]): Promise<void> {
  if (to.type === "organisation") return;
  const audience = await repo.audienceExists(db, orgId, to.type, to.id!);
  if (audience === "missing")
    throw messageErrors.recipientNotFound(`No ${to.type} ${to.id} in this organisation.`, {
      errors: [{ field: "to.id", reason: "not found" }],
    });
  if (audience === "deleted")
    throw messageErrors.recipientDeleted(`User ${to.id} has been deleted and receives no messages.`, {
      errors: [{ field: "to.id", reason: "user deleted" }],
    });
}

/** A reply in a thread the caller may read; it keeps the thread's audience and subject. */
export async function reply({ db }: { db: Db }, principal: Principal, parentId: string, input: ReplyInput): Promise<ReadMessage> {
  const parent = await readableMessage(db, principal, parentId);
  const root = parent.threadId === parent.id ? parent : (await repo.findMessage(db, principal.orgId, parent.threadId))!;
  const id = newId();
  const sent = await transaction(db, async (tx) => {
    // Read before the reply is written: the reply's own sender is left out below either way.
    const writers = (await repo.threadSenders(tx, principal.orgId, root.id)).filter(
      (w) => !(w.userId === principal.userId && w.sessionId === principal.sessionId),
    );
    const row = await repo.insertDelivered(
      tx,
      {
        id,
        orgId: principal.orgId,
        threadId: root.id,
        parentId: parent.id,
        senderUserId: principal.userId,
        senderSessionId: principal.sessionId,
        toKind: root.toKind,
        toId: root.toId,
        subject: root.subject,
        body: input.body,
        importance: input.importance,
        ackRequired: input.ackRequired,
        until: null,
        aboutKind: root.aboutKind,
        aboutId: root.aboutId,
        aboutPath: root.aboutPath,
      },
      writers.map((w) => w.userId),
    );
    // Unconditional: it either writes or throws.
    if (!row) throw new Error("a reply's insert wrote nothing");
    await appendEvents(tx, principal.orgId, [await sentEvent(tx, principal, row, writers)]);
    return row;
  });
  return asWritten(sent);
}

async function readableMessage(db: Db, principal: Principal, id: string): Promise<ReadMessage> {
  const message = await repo.findReadableMessage(db, readerOf(principal), id);
  if (!message) throw messageErrors.notFound(`No message ${id} you may read in this organisation.`);
  return message;
}

export async function getMessage({ db }: { db: Db }, principal: Principal, id: string): Promise<ReadMessage> {
  return readableMessage(db, principal, id);
}

export async function listMessages({ db }: { db: Db }, principal: Principal, query: ListMessagesInput) {
  const rows = await repo.listMessages(db, readerOf(principal), {
    unread: query.unread,
    needsAck: query.needsAck,
    threadId: query.thread,
    about: query.aboutType ? { kind: query.aboutType, id: query.aboutId } : undefined,
    fromUserId: query.from,
    box: query.box,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit);
}

export async function searchMessages({ db }: { db: Db }, principal: Principal, query: SearchMessagesInput) {
  const rows = await repo.listMessages(db, readerOf(principal), {
    box: "all",
    search: query.q,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit);
}

export async function getThread({ db }: { db: Db }, principal: Principal, threadId: string) {
  const list = await repo.threadMessages(db, readerOf(principal), threadId);
  if (list.length === 0) throw messageErrors.notFound(`No thread ${threadId} you may read in this organisation.`);
  const muted = (await repo.mutedBy(db, threadId, [principal.userId])).has(principal.userId);
  return { id: threadId, subject: list[0]!.subject, muted, messages: list };
}

/** Marks a message read for this reader (idempotent: the first read is the one recorded). */
export async function markRead({ db }: { db: Db }, principal: Principal, id: string): Promise<ReadMessage> {
  const message = await getMessage({ db }, principal, id);
  if (message.readAt) return message;
  return transaction(db, async (tx) => {
    const receipt = await repo.markRead(tx, readerOf(principal), id);
    if (receipt) {
      await appendEvents(tx, principal.orgId, [
        messageEvents.event({
          type: "message.read",
          actor: actorOf(principal),
          subject: { type: "message", id },
          payload: { messageId: id, threadId: message.threadId, userId: principal.userId, readerSessionId: principal.sessionId },
        }),
      ]);
    }
    return { ...message, readAt: receipt?.readAt ?? new Date() };
  });
}

/** Acknowledges a message for this reader (idempotent); the sender is alerted once. */
export async function acknowledge({ db }: { db: Db }, principal: Principal, id: string): Promise<ReadMessage> {
  const message = await getMessage({ db }, principal, id);
  if (message.acknowledgedAt) return message;
  return transaction(db, async (tx) => {
    const receipt = await repo.acknowledge(tx, readerOf(principal), id);
    if (receipt) {
      await appendEvents(tx, principal.orgId, [
        messageEvents.event({
          type: "message.acknowledged",
          actor: actorOf(principal),
          subject: { type: "message", id },
          payload: {
            messageId: id,
            threadId: message.threadId,
            userId: principal.userId,
            readerSessionId: principal.sessionId,
            senderUserId: message.senderUserId,
          },
        }),
      ]);
    }
    return { ...message, readAt: message.readAt ?? receipt?.readAt ?? new Date(), acknowledgedAt: receipt?.acknowledgedAt ?? new Date() };
  });
}

/**
 * Who has read and acknowledged a message, and which live sessions of its audience have not
 * acknowledged a directive yet: for its sender, leads and admins.
 */
export async function receipts({ db }: { db: Db }, principal: Principal, id: string) {
  const message = await getMessage({ db }, principal, id);
  if (principal.role === "member" && message.senderUserId !== principal.userId)
    throw messageErrors.notSender("Only the sender, leads and admins see who has read a message.");
  const list = await repo.receiptsOf(db, principal.orgId, id);
  const acked = new Set(list.filter((r) => r.acknowledgedAt && r.readerKind === "session").map((r) => r.readerId));
  const pending = message.ackRequired ? (await repo.audienceSessions(db, message)).filter((s) => !acked.has(s.sessionId)) : [];
  return { message, receipts: list, pending };
}

export async function setMuted({ db }: { db: Db }, principal: Principal, threadId: string, muted: boolean) {
  await getThread({ db }, principal, threadId);
  await repo.setMuted(db, principal.orgId, threadId, principal.userId, muted);
  return getThread({ db }, principal, threadId);
}

/**
 * The threads a caller (speaking through `sessionId`) already has with the holders of these
 * claims, about them: claim id → thread id, for claims without one nothing. One read for all.
 */
export async function claimThreadIds(
  { db }: { db: Db },
  principal: Principal,
  sessionId: string,
  claims: { claimId: string; holder: repo.ClaimParty }[],
): Promise<Map<string, string>> {
  return repo.claimThreadIds(db, principal.orgId, { userId: principal.userId, sessionId }, claims);
}

/**
 * Alerts that announce what the hooks tell as message notices: a hook acknowledges them without
 * telling them, so each message reaches the agent's context once, as its notice.
 */
export const ALERTS_TOLD_AS_NOTICES: ReadonlySet<string> = new Set(["message.sent"]);

/** At most this many messages in one hook answer; the rest wait for the next, or the inbox. */
const NOTICES_PER_ANSWER = 5;

/**
 * What an agent's hooks put in front of its session now, one line per message (subject, sender,
 * ids, how to answer), each recorded as told:
 * - a message delivered to the session since it started, not read and not muted: once;
 * - a directive in force it has not acknowledged (whenever it was sent: sessions started later
 *   receive it too): in full when first seen, and while unacknowledged, only with
 *   `repeatDirectives`, as a one-line reminder. The hooks remind on a new prompt and not on tool calls: a prompt is a
 *   turn at a person's pace, where a reminder costs one line; tool calls come many a minute,
 *   where repeating would bury the agent's own work under the same line.
 * Messages from before the session started are left to the inbox: a new session is not
 * handed its developer's history.
 */
export async function takeMessageNotices(
  { db }: { db: Db },
  principal: Principal & { sessionId: string },
  options: { repeatDirectives: boolean },
): Promise<string[]> {
  const candidates = await repo.noticeCandidates(
    db,
    { ...readerOf(principal), sessionId: principal.sessionId },
    {
      repeatDirectives: options.repeatDirectives,
      limit: NOTICES_PER_ANSWER + 1,
    },
  );
  if (candidates.length === 0) return [];
  const shown = candidates.slice(0, NOTICES_PER_ANSWER);
  const recorded = await repo.recordNotices(db, principal.orgId, principal.sessionId, shown);
  const told = shown.filter((m) => recorded.has(m.id));
  if (told.length === 0) return [];
  const lines = told.map((m) => {
    const from = `${m.sender.name}${m.senderSessionId ? "'s agent" : ""}`;
    const urgent = m.importance === "high" || m.importance === "urgent" ? ` (${m.importance})` : "";
    // Told in full once; after that a one-line reminder naming only how to acknowledge.
    if (m.ackRequired && m.told)
      return `Reminder: directive "${m.subject}" (message ${m.id}) still awaits your acknowledgement: MCP ack_message or \`brigade msg ack ${m.id}\`.`;
    if (m.ackRequired)
      return (
        `Directive${urgent}: "${m.subject}" from ${from} (message ${m.id}). ` +
        `Read it (MCP read_thread ${m.threadId}, or \`brigade msg thread ${m.threadId}\`), follow it, then acknowledge it (MCP ack_message, or \`brigade msg ack ${m.id}\`).`
      );
    return (
      `Message${urgent}: "${m.subject}" from ${from} (message ${m.id}). ` +
      `Read it with MCP read_thread ${m.threadId} (or \`brigade msg thread ${m.threadId}\`); answer with MCP reply (messageId ${m.id}) or \`brigade msg reply ${m.id}\`.`
    );
  });
  if (candidates.length > shown.length) lines.push("More messages are waiting: see MCP inbox or `brigade msg inbox`.");
  return lines;
}
