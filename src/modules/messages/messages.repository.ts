import { and, asc, desc, eq, exists, gt, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../../infra/db.js";
import { teamMembers, teams, users } from "../identity/identity.table.js";
import { sessions } from "../sessions/sessions.table.js";
import { messageReceipts, messages, threadMutes } from "./messages.table.js";

export type MessageRow = typeof messages.$inferSelect;
export type NewMessage = Omit<MessageRow, "createdAt" | "search">;
export type ReceiptRow = typeof messageReceipts.$inferSelect;

/** A message as one reader sees it: the row with that reader's receipt. */
export type ReadMessage = MessageRow & { readAt: Date | null; acknowledgedAt: Date | null };

/**
 * Who is reading: the user, their role, and — with a session token — the agent's session,
 * which keeps read and acknowledged state of its own.
 */
export interface Reader {
  orgId: string;
  userId: string;
  role: "admin" | "lead" | "member";
  sessionId: string | null;
}

const readerKind = (r: Reader) => (r.sessionId ? "session" : "user");
const readerId = (r: Reader) => r.sessionId ?? r.userId;

const myTeams = (r: Reader) =>
  sql`(select ${teamMembers.teamId} from ${teamMembers} where ${teamMembers.orgId} = ${r.orgId} and ${teamMembers.userId} = ${r.userId})`;
const myTeamsMembers = (r: Reader) =>
  sql`(select ${teamMembers.userId} from ${teamMembers} where ${teamMembers.orgId} = ${r.orgId} and ${teamMembers.teamId} in ${myTeams(r)})`;

/**
 * The threads a reader may read, as a condition on a message `m`'s thread root `root`:
 * admins read all; anyone reads threads they are in the audience of (their session — only its
 * own with a session token —, themselves, a team of theirs, the organisation) or have written
 * in; leads also read threads started by or addressed to members of their teams, or addressed
 * to those teams.
 */
function threadReadable(r: Reader, root: typeof rootMessage): SQL | undefined {
  if (r.role === "admin") return undefined;
  const ownSessions = r.sessionId
    ? sql`${root.toId} = ${r.sessionId}`
    : sql`${root.toId} in (select ${sessions.id} from ${sessions} where ${sessions.orgId} = ${r.orgId} and ${sessions.userId} = ${r.userId})`;
  const conditions: SQL[] = [
    sql`${root.senderUserId} = ${r.userId}`,
    sql`(${root.toKind} = 'session' and ${ownSessions})`,
    sql`(${root.toKind} = 'user' and ${root.toId} = ${r.userId})`,
    sql`(${root.toKind} = 'team' and ${root.toId} in ${myTeams(r)})`,
    sql`${root.toKind} = 'organisation'`,
    sql`exists (select 1 from ${messages} w where w.org_id = ${r.orgId} and w.thread_id = ${root.id} and w.sender_user_id = ${r.userId})`,
  ];
  if (r.role === "lead") {
    conditions.push(
      sql`${root.senderUserId} in ${myTeamsMembers(r)}`,
      sql`(${root.toKind} = 'user' and ${root.toId} in ${myTeamsMembers(r)})`,
    );
  }
  return or(...conditions);
}

/** Messages, each with this reader's receipt. */
const withReceipt = (db: Db, r: Reader) =>
  db
    .select({ message: messages, readAt: messageReceipts.readAt, acknowledgedAt: messageReceipts.acknowledgedAt })
    .from(messages)
    .leftJoin(
      messageReceipts,
      and(
        eq(messageReceipts.messageId, messages.id),
        eq(messageReceipts.readerKind, readerKind(r)),
        eq(messageReceipts.readerId, readerId(r)),
      ),
    );

export interface MessageFilter {
  unread?: boolean | undefined;
  needsAck?: boolean | undefined;
  threadId?: string | undefined;
  about?: { kind: string; id?: string | undefined } | undefined;
  fromUserId?: string | undefined;
  box: "inbox" | "sent" | "all";
  search?: string | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Sent by this reader itself: its session's messages, or (personal token) the user's own. */
const sentByReader = (r: Reader) =>
  r.sessionId
    ? sql`${messages.senderSessionId} is not distinct from ${r.sessionId}`
    : and(eq(messages.senderUserId, r.userId), isNull(messages.senderSessionId))!;

/** The thread root a message belongs to (a root is its own). */
const rootMessage = alias(messages, "root_message");

/**
 * Readable messages: a reply keeps its root's audience, so the read rules are applied to the
 * thread's root, and whoever may read the root reads the whole thread.
 */
function readableCondition(db: Db, r: Reader): SQL | undefined {
  const condition = threadReadable(r, rootMessage);
  if (!condition) return undefined;
  return exists(
    db
      .select({ one: sql`1` })
      .from(rootMessage)
      .where(and(eq(rootMessage.id, messages.threadId), condition)),
  );
}

export async function listMessages(db: Db, r: Reader, f: MessageFilter): Promise<ReadMessage[]> {
  const where: (SQL | undefined)[] = [eq(messages.orgId, r.orgId), readableCondition(db, r)];
  if (f.box === "sent") where.push(sentByReader(r));
  else if (f.box === "inbox") where.push(sql`not (${sentByReader(r)})`);
  const muted = sql`exists (select 1 from ${threadMutes} where ${threadMutes.threadId} = ${messages.threadId} and ${threadMutes.userId} = ${r.userId})`;
  if (f.unread) where.push(isNull(messageReceipts.readAt), or(eq(messages.ackRequired, true), sql`not ${muted}`));
  if (f.needsAck)
    where.push(
      eq(messages.ackRequired, true),
      isNull(messageReceipts.acknowledgedAt),
      or(isNull(messages.until), gt(messages.until, sql`now()`)),
    );
  if (f.threadId) where.push(eq(messages.threadId, f.threadId));
  if (f.about) {
    where.push(eq(messages.aboutKind, f.about.kind as MessageRow["aboutKind"] & string));
    if (f.about.id) where.push(eq(messages.aboutId, f.about.id));
  }
  if (f.fromUserId) where.push(eq(messages.senderUserId, f.fromUserId));
  if (f.search) where.push(sql`${messages.search} @@ websearch_to_tsquery('simple', ${f.search})`);
  if (f.beforeId) where.push(lt(messages.id, f.beforeId));
  const rows = await withReceipt(db, r)
    .where(and(...where))
    .orderBy(desc(messages.id))
    .limit(f.limit);
  return rows.map(({ message, readAt, acknowledgedAt }) => ({ ...message, readAt, acknowledgedAt }));
}

export async function findReadableMessage(db: Db, r: Reader, id: string): Promise<ReadMessage | undefined> {
  const [row] = await withReceipt(db, r).where(and(eq(messages.orgId, r.orgId), eq(messages.id, id), readableCondition(db, r)));
  return row && { ...row.message, readAt: row.readAt, acknowledgedAt: row.acknowledgedAt };
}

export async function threadMessages(db: Db, r: Reader, threadId: string): Promise<ReadMessage[]> {
  const rows = await withReceipt(db, r)
    .where(and(eq(messages.orgId, r.orgId), eq(messages.threadId, threadId), readableCondition(db, r)))
    .orderBy(asc(messages.id));
  return rows.map(({ message, readAt, acknowledgedAt }) => ({ ...message, readAt, acknowledgedAt }));
}

export async function findMessage(db: Db, orgId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.orgId, orgId), eq(messages.id, id)));
  return row;
}

export async function insertMessage(db: Db, row: NewMessage): Promise<MessageRow> {
  const [inserted] = await db.insert(messages).values(row).returning();
  return inserted!;
}

/** Distinct senders of a thread's messages: who hears about a reply beside the audience. */
export async function threadSenders(db: Db, orgId: string, threadId: string): Promise<{ userId: string; sessionId: string | null }[]> {
  return db
    .selectDistinct({ userId: messages.senderUserId, sessionId: messages.senderSessionId })
    .from(messages)
    .where(and(eq(messages.orgId, orgId), eq(messages.threadId, threadId)));
}

/** Records a first read; returns the receipt when this call created it. */
export async function markRead(db: Db, r: Reader, messageId: string): Promise<ReceiptRow | undefined> {
  const [row] = await db
    .insert(messageReceipts)
    .values({ orgId: r.orgId, messageId, readerKind: readerKind(r), readerId: readerId(r), userId: r.userId })
    .onConflictDoNothing()
    .returning();
  return row;
}

/** Records an acknowledgement (and the read it implies); returns the receipt when this call acknowledged. */
export async function acknowledge(db: Db, r: Reader, messageId: string): Promise<ReceiptRow | undefined> {
  await markRead(db, r, messageId);
  const [row] = await db
    .update(messageReceipts)
    .set({ acknowledgedAt: sql`now()` })
    .where(
      and(
        eq(messageReceipts.messageId, messageId),
        eq(messageReceipts.readerKind, readerKind(r)),
        eq(messageReceipts.readerId, readerId(r)),
        isNull(messageReceipts.acknowledgedAt),
      ),
    )
    .returning();
  return row;
}

export async function receiptsOf(db: Db, orgId: string, messageId: string): Promise<ReceiptRow[]> {
  return db
    .select()
    .from(messageReceipts)
    .where(and(eq(messageReceipts.orgId, orgId), eq(messageReceipts.messageId, messageId)))
    .orderBy(asc(messageReceipts.readAt));
}

/** Live sessions of a message's audience: those a directive is in front of. */
export async function audienceSessions(db: Db, m: MessageRow): Promise<{ sessionId: string; userId: string }[]> {
  const where: (SQL | undefined)[] = [eq(sessions.orgId, m.orgId), eq(sessions.status, "active"), gt(sessions.expiresAt, sql`now()`)];
  if (m.toKind === "session") where.push(eq(sessions.id, m.toId!));
  else if (m.toKind === "user") where.push(eq(sessions.userId, m.toId!));
  else if (m.toKind === "team")
    where.push(
      inArray(
        sessions.userId,
        db
          .select({ id: teamMembers.userId })
          .from(teamMembers)
          .where(and(eq(teamMembers.orgId, m.orgId), eq(teamMembers.teamId, m.toId!))),
      ),
    );
  return db
    .select({ sessionId: sessions.id, userId: sessions.userId })
    .from(sessions)
    .where(and(...where))
    .orderBy(asc(sessions.id));
}

/** Whether the audience a sender names exists in the organisation. */
export async function audienceExists(db: Db, orgId: string, kind: "session" | "user" | "team", id: string): Promise<boolean> {
  const table = kind === "session" ? sessions : kind === "user" ? users : teams;
  const [row] = await db
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.orgId, orgId), eq(table.id, id)));
  return row !== undefined;
}

/** Every user of the organisation: an organisation-wide message alerts each. */
export async function organisationUsers(db: Db, orgId: string): Promise<string[]> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.orgId, orgId));
  return rows.map((u) => u.id);
}

export async function setMuted(db: Db, orgId: string, threadId: string, userId: string, muted: boolean): Promise<void> {
  if (muted) await db.insert(threadMutes).values({ orgId, threadId, userId }).onConflictDoNothing();
  else await db.delete(threadMutes).where(and(eq(threadMutes.threadId, threadId), eq(threadMutes.userId, userId)));
}

export async function mutedBy(db: Db, threadId: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: threadMutes.userId })
    .from(threadMutes)
    .where(and(eq(threadMutes.threadId, threadId), inArray(threadMutes.userId, userIds)));
  return new Set(rows.map((m) => m.userId));
}

export async function isTeamMember(db: Db, orgId: string, teamId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
  return row !== undefined;
}
