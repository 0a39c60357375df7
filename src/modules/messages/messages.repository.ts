import {
  and,
  asc,
  desc,
  eq,
  exists,
  getTableColumns,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  notExists,
  or,
  type Placeholder,
  sql,
  type SQL,
  type SQLWrapper,
} from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, executePrepared, executeRows, prepareMapped, type PreparedRows } from "../../infra/db.js";
import { rowMapper } from "../../infra/row-mapper.js";
import { recordset } from "../../infra/recordset.js";
import { teamMembers, teams, users } from "../identity/identity.table.js";
import { type Person, personColumns, personJoin } from "../identity/people.js";
import { sessions } from "../sessions/sessions.table.js";
import { messageDeliveries, messageNotices, messageReceipts, messages, searchVector, threadMutes } from "./messages.table.js";

export type MessageRow = Omit<typeof messages.$inferSelect, "search">;
export type NewMessage = Omit<MessageRow, "createdAt">;
export type ReceiptRow = typeof messageReceipts.$inferSelect;

/** A message as one reader sees it: the row with that reader's receipt, and its sender named. */
export type ReadMessage = MessageRow & { readAt: Date | null; acknowledgedAt: Date | null; sender: Person };

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

/**
 * A value in a statement: the value itself, or a placeholder in a statement built once and run
 * many times with values (`listMessages`).
 */
type Term = string | Placeholder;

/** A reader as a statement names it: its ids as values or as placeholders. */
interface ReaderTerms {
  orgId: Term;
  userId: Term;
  sessionId: Term | null;
  role: Reader["role"];
}

/** The thread root a message belongs to (a root is its own). */
const rootMessage = alias(messages, "root_message");

const readerKind = (r: ReaderTerms) => (r.sessionId ? "session" : "user");
const readerId = (r: Reader) => r.sessionId ?? r.userId;
const readerTerm = (r: ReaderTerms) => r.sessionId ?? r.userId;

const myTeams = (r: ReaderTerms) =>
  sql`(select ${teamMembers.teamId} from ${teamMembers} where ${teamMembers.orgId} = ${r.orgId} and ${teamMembers.userId} = ${r.userId})`;
const myTeamsMembers = (r: ReaderTerms) =>
  sql`(select ${teamMembers.userId} from ${teamMembers} where ${teamMembers.orgId} = ${r.orgId} and ${teamMembers.teamId} in ${myTeams(r)})`;

/** Deliveries this reader sees: all of the user's, or with a session token those not meant for another session. */
const deliveredTo = (r: ReaderTerms) =>
  r.sessionId
    ? and(eq(messageDeliveries.userId, r.userId), or(isNull(messageDeliveries.sessionId), eq(messageDeliveries.sessionId, r.sessionId)))!
    : eq(messageDeliveries.userId, r.userId);

/**
 * The threads a reader may read, as a condition on a thread's root `root`: admins read all;
 * anyone reads a thread delivered to them (as its audience, or as one who wrote in it) or that
 * they wrote in; leads also read threads started by or addressed to members of their teams, or
 * addressed to those teams.
 */
function threadReadable(db: Db, r: ReaderTerms, root: typeof rootMessage): SQL | undefined {
  if (r.role === "admin") return undefined;
  const inThread = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.orgId, r.orgId), eq(messages.threadId, root.id)));
  const conditions: SQL[] = [
    sql`${root.senderUserId} = ${r.userId}`,
    exists(
      db
        .select({ one: sql`1` })
        .from(messageDeliveries)
        .where(and(deliveredTo(r), inArray(messageDeliveries.messageId, inThread))),
    ),
    exists(
      db
        .select({ one: sql`1` })
        .from(messages)
        .where(and(eq(messages.orgId, r.orgId), eq(messages.threadId, root.id), eq(messages.senderUserId, r.userId))),
    ),
  ];
  if (r.role === "lead") {
    conditions.push(
      sql`${root.senderUserId} in ${myTeamsMembers(r)}`,
      sql`(${root.toKind} = 'user' and ${root.toId} in ${myTeamsMembers(r)})`,
      sql`(${root.toKind} = 'team' and ${root.toId} in ${myTeams(r)})`,
    );
  }
  return or(...conditions);
}

/** A message's columns but the search vector (only PostgreSQL reads it). */
const { search: _search, ...messageColumns } = getTableColumns(messages);

/** This reader's receipt for the message in the outer query (a probe of its primary key). */
const receiptOf = (r: ReaderTerms) =>
  and(
    sql`${messageReceipts.messageId} = ${messages.id}`,
    eq(messageReceipts.readerKind, readerKind(r)),
    eq(messageReceipts.readerId, readerTerm(r)),
  );

/** The sender of the message in the outer query, joined once per row (see `personJoin`). */
const sender = personJoin(messages.senderUserId, messages.orgId, "sender");

/** This reader's receipt for the message in the outer query: a lateral probe of its primary key. */
const receiptJoin = (r: ReaderTerms) =>
  sql`(select ${messageReceipts.readAt} as read_at, ${messageReceipts.acknowledgedAt} as acknowledged_at
    from ${messageReceipts} where ${receiptOf(r)}) "receipt"`;

/** A message as `withReceipt` reads it: its columns, its sender named, this reader's receipt. */
const readMessageColumns = {
  ...messageColumns,
  sender: sender.columns,
  readAt: sql<Date | null>`"receipt".read_at`.mapWith(messageReceipts.readAt),
  acknowledgedAt: sql<Date | null>`"receipt".acknowledged_at`.mapWith(messageReceipts.acknowledgedAt),
};
/** Rows of the list statements, which select exactly `readMessageColumns` (`withReceipt` without extras). */
const readMessages = rowMapper<ReadMessage>(readMessageColumns);

/**
 * Messages, each with this reader's receipt and its sender's name, read by lateral joins placed
 * after the statement's own (an inbox's deliveries): the planner keeps an inbox's ordered index
 * scan and stops at the page size (with `unread`/`needsAck` written as anti-joins too), and
 * probes the receipt and the sender once per row, where a scalar subquery per column probed each
 * twice (an inbox page read 820 buffers, now 412).
 */
function withReceipt<Extra extends Record<string, SQL.Aliased | SQL>>(
  db: Db,
  r: ReaderTerms,
  options: { delivered?: boolean; extra?: Extra } = {},
) {
  const from = db
    .select({ ...readMessageColumns, ...(options.extra as Extra) })
    .from(messages)
    .$dynamic();
  const joined = options.delivered ? from.innerJoin(messageDeliveries, eq(messageDeliveries.messageId, messages.id)) : from;
  return joined.leftJoinLateral(sender.join, sql`true`).leftJoinLateral(receiptJoin(r), sql`true`);
}

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
const sentByReader = (r: ReaderTerms) =>
  r.sessionId
    ? sql`${messages.senderSessionId} is not distinct from ${r.sessionId}`
    : and(eq(messages.senderUserId, r.userId), isNull(messages.senderSessionId))!;

/**
 * Readable messages: a reply keeps its root's audience, so the read rules are applied to the
 * thread's root, and whoever may read the root reads the whole thread.
 */
function readableCondition(db: Db, r: ReaderTerms): SQL | undefined {
  const condition = threadReadable(db, r, rootMessage);
  if (!condition) return undefined;
  return exists(
    db
      .select({ one: sql`1` })
      .from(rootMessage)
      .where(and(eq(rootMessage.id, messages.threadId), condition)),
  );
}

/** The words asked for, in web-search syntax, as a full-text query. */
const wordsQuery = (words: Placeholder) => sql`websearch_to_tsquery('simple', ${words})`;

/**
 * The same query as a subquery the planner cannot see into: a statement that matches with it is
 * prepared and keeps one plan for every word (`prepared-statements.ts`, `searchReadable`).
 */
const hiddenWordsQuery = (words: Placeholder) => sql`(select ${wordsQuery(words)})`;

/** A search vector (a message's, or a delivery's copy) against a full-text query. */
const wordsMatch = (vector: SQLWrapper, query: SQL) => sql`${vector} @@ ${query}`;

/** A filter as a statement built once per shape names it: which conditions apply, their values as placeholders. */
interface FilterTerms {
  unread: boolean;
  needsAck: boolean;
  threadId: Placeholder | undefined;
  about: { kind: Placeholder; id: Placeholder | undefined } | undefined;
  fromUserId: Placeholder | undefined;
  box: MessageFilter["box"];
  search: Placeholder | undefined;
  beforeId: Placeholder | undefined;
  /** Written into the text (see LIMIT_STEPS), not a placeholder. */
  limit: PageLimit;
}

/**
 * A page size written into a statement's text: drizzle puts an SQL chunk given to `.limit()` in
 * as it is, where a number would become a parameter (its typing names numbers and placeholders).
 */
type PageLimit = number;
const pageLimit = (rows: number): PageLimit => sql.raw(String(Math.trunc(rows))) as unknown as PageLimit;

/**
 * Messages a reader lists, newest first: an inbox reads the reader's deliveries (one index
 * range, newest first); what a reader sent is read by sender; a search spans both, or — for
 * admins — every message.
 */
function listQuery(db: Db, r: ReaderTerms, f: FilterTerms) {
  const where: (SQL | undefined)[] = [eq(messages.orgId, r.orgId)];
  const muted = sql`exists (select 1 from ${threadMutes} where ${threadMutes.threadId} = ${messages.threadId} and ${threadMutes.userId} = ${r.userId})`;
  if (f.unread)
    where.push(
      notExists(db.select({ one: sql`1` }).from(messageReceipts).where(receiptOf(r))),
      or(eq(messages.ackRequired, true), sql`not ${muted}`),
    );
  if (f.needsAck)
    where.push(
      eq(messages.ackRequired, true),
      notExists(
        db
          .select({ one: sql`1` })
          .from(messageReceipts)
          .where(and(receiptOf(r), isNotNull(messageReceipts.acknowledgedAt))),
      ),
      or(isNull(messages.until), gt(messages.until, sql`now()`)),
    );
  if (f.threadId) where.push(eq(messages.threadId, f.threadId));
  if (f.about) {
    where.push(eq(messages.aboutKind, f.about.kind));
    if (f.about.id) where.push(eq(messages.aboutId, f.about.id));
  }
  if (f.fromUserId) where.push(eq(messages.senderUserId, f.fromUserId));
  if (f.search) where.push(wordsMatch(messages.search, wordsQuery(f.search)));

  if (f.box === "inbox") {
    const delivered = [deliveredTo(r), sql`not (${sentByReader(r)})`];
    if (f.needsAck) delivered.push(eq(messageDeliveries.ackRequired, true));
    if (f.beforeId) delivered.push(lt(messageDeliveries.messageId, f.beforeId));
    return withReceipt(db, r, { delivered: true })
      .where(and(...where, ...delivered))
      .orderBy(desc(messageDeliveries.messageId))
      .limit(f.limit);
  }
  if (f.box === "all" && f.search && r.role === "member" && !f.unread && !f.needsAck && !f.threadId && !f.about && !f.fromUserId)
    return searchReadable(db, r, f.search, f.beforeId, f.limit);
  if (f.box === "sent") where.push(sentByReader(r));
  else if (r.role !== "admin")
    where.push(
      or(
        eq(messages.senderUserId, r.userId),
        inArray(messages.id, db.select({ id: messageDeliveries.messageId }).from(messageDeliveries).where(deliveredTo(r))),
        r.role === "lead" ? readableCondition(db, r) : undefined,
      ),
    );
  if (f.beforeId) where.push(lt(messages.id, f.beforeId));
  return withReceipt(db, r)
    .where(and(...where))
    .orderBy(desc(messages.id))
    .limit(f.limit);
}

/**
 * A member's search: what was delivered to them, and what they sent that was not, newest first.
 * Each part is its own ordered, limited query, so the planner picks per part and per word:
 * the delivered part takes the member's matches from the deliveries' (user, vector) index and
 * keeps the newest; the sent part walks what the member sent newest first and stops at the page
 * size. The parts share no message, so the newest of their union make the page. Written as one
 * condition (`delivered or sent`), the planner could do neither, and walked the organisation's
 * messages newest first, or fetched and sorted every match in it.
 */
function searchReadable(db: Db, r: ReaderTerms, search: Placeholder, beforeId: Placeholder | undefined, limit: PageLimit) {
  // The words as a subquery the planner cannot see into, so that this statement is prepared and
  // planned once (prepared-statements.ts). With the words in view it was parsed and planned for
  // them at every run, in two round trips, and planning it cost more than running it: 1.5 ms
  // against 0.8 ms at a million messages. The one plan is the shape each part below is written
  // for, whatever the word: the delivered part is bounded by the reader's deliveries (their
  // (user, words) index), the sent part by what the reader sent.
  const words = hiddenWordsQuery(search);
  const matches = wordsMatch(messages.search, words);
  // Both parts name their column `id`: the union's column is read as found.id.
  const delivered = db
    .select({ id: sql<string>`${messageDeliveries.messageId}`.as("id") })
    .from(messageDeliveries)
    .where(
      and(
        deliveredTo(r),
        eq(messageDeliveries.orgId, r.orgId),
        wordsMatch(messageDeliveries.search, words),
        beforeId ? lt(messageDeliveries.messageId, beforeId) : undefined,
      ),
    )
    .orderBy(desc(messageDeliveries.messageId))
    .limit(limit);
  const sentNotDelivered = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.orgId, r.orgId),
        eq(messages.senderUserId, r.userId),
        // Not an index condition (`is true`): the sender's own messages are walked newest first.
        // Offered the word's index too, the planner ANDs the two bitmaps, pricing a common word's
        // entries (6% of the organisation's messages) far too low: 22 ms against 0.4 ms
        // for the walk, at a million messages. The walk is bounded by what this reader sent; the
        // word's entries grow with the whole organisation.
        sql`(${matches}) is true`,
        beforeId ? lt(messages.id, beforeId) : undefined,
        notExists(
          db
            .select({ one: sql`1` })
            .from(messageDeliveries)
            .where(and(deliveredTo(r), sql`${messageDeliveries.messageId} = ${messages.id}`)),
        ),
      ),
    )
    .orderBy(desc(messages.id))
    .limit(limit);
  return withReceipt(db, r)
    .where(
      and(
        eq(messages.orgId, r.orgId),
        // The page is cut from the union before the messages are read: each row read below
        // costs a message, its sender and a receipt (a common word: 1,970 buffers, now 884).
        inArray(
          messages.id,
          sql`(select found.id from ((${delivered}) union all (${sentNotDelivered})) found order by found.id desc limit ${limit})`,
        ),
      ),
    )
    .orderBy(desc(messages.id))
    .limit(limit);
}

/**
 * Page sizes the list statements are written with, each its own statement text. PostgreSQL plans
 * a prepared statement afresh at every run (a custom plan) for as long as its generic plan looks
 * dearer, and a `limit $n` it cannot see makes it look so (it assumes a tenth of the rows): the
 * inbox was planned on every request, which cost PostgreSQL more than running it (0.3–1 ms against
 * 0.2–0.4 ms). With the limit in the text, the generic plan is taken from the sixth run on. A
 * requested limit is rounded up to the next of these sizes and the rows cut back to it, so any
 * mix of clients' page sizes makes a few statements per shape, never one per size.
 */
const LIMIT_STEPS = [2, 6, 11, 21, 51, 101, 201];
const limitStep = (limit: number) => LIMIT_STEPS.find((step) => step >= limit) ?? limit;

/**
 * Statements of `listMessages`, built once per database and shape (which filters apply, the
 * reader's role, whether it reads as a session): building a statement this size cost more of the
 * server's time than PostgreSQL took to run it. The shapes (page sizes included) are few, well
 * under the bound.
 */
const listStatements = new WeakMap<Db, Map<string, PreparedRows<ReadMessage>>>();
const MAX_LIST_SHAPES = 512;
let shapesBuilt = 0;

const placeholder = sql.placeholder;
const when = (present: unknown, name: string) => (present ? placeholder(name) : undefined);

export async function listMessages(db: Db, r: Reader, f: MessageFilter): Promise<ReadMessage[]> {
  const step = limitStep(f.limit);
  const shape = [
    step,
    f.box,
    r.role,
    r.sessionId ? "session" : "user",
    f.unread && "unread",
    f.needsAck && "needs-ack",
    f.threadId && "thread",
    f.about && (f.about.id ? "about-id" : "about-kind"),
    f.fromUserId && "from",
    f.search && "search",
    f.beforeId && "before",
  ].join("|");
  let statements = listStatements.get(db);
  if (!statements) listStatements.set(db, (statements = new Map()));
  let statement = statements.get(shape);
  if (!statement) {
    if (statements.size >= MAX_LIST_SHAPES) statements.clear();
    const reader: ReaderTerms = {
      orgId: placeholder("orgId"),
      userId: placeholder("userId"),
      sessionId: when(r.sessionId, "sessionId") ?? null,
      role: r.role,
    };
    const terms: FilterTerms = {
      unread: f.unread === true,
      needsAck: f.needsAck === true,
      threadId: when(f.threadId, "threadId"),
      about: f.about ? { kind: placeholder("aboutKind"), id: when(f.about.id, "aboutId") } : undefined,
      fromUserId: when(f.fromUserId, "fromUserId"),
      box: f.box,
      search: when(f.search, "search"),
      beforeId: when(f.beforeId, "beforeId"),
      limit: pageLimit(step),
    };
    statement = prepareMapped(db, `brigade_messages_${++shapesBuilt}`, listQuery(db, reader, terms).getSQL(), readMessages);
    statements.set(shape, statement);
  }
  const rows = await statement.execute({
    orgId: r.orgId,
    userId: r.userId,
    sessionId: r.sessionId,
    threadId: f.threadId,
    aboutKind: f.about?.kind,
    aboutId: f.about?.id,
    fromUserId: f.fromUserId,
    search: f.search,
    beforeId: f.beforeId,
  });
  return rows.length > f.limit ? rows.slice(0, f.limit) : rows;
}

/**
 * A new thread's audience as the send's own statements check it: the user (not deleted), the
 * session or the team exists in the organisation. `audienceExists` tells which it was when not.
 */
export function audienceIsLive(m: Pick<NewMessage, "orgId" | "toKind" | "toId">): SQL {
  switch (m.toKind) {
    case "user":
      return sql`exists (select 1 from ${users} where ${users.orgId} = ${m.orgId} and ${users.id} = ${m.toId} and ${users.deletedAt} is null)`;
    case "session":
      return sql`exists (select 1 from ${sessions} where ${sessions.orgId} = ${m.orgId} and ${sessions.id} = ${m.toId})`;
    case "team":
      return sql`exists (select 1 from ${teams} where ${teams.orgId} = ${m.orgId} and ${teams.id} = ${m.toId})`;
    default:
      return sql`true`;
  }
}

/** The message was written earlier in this transaction: what its events wait for (`appendEvents`' condition). */
export const messageWritten = (id: string): SQL => sql`exists (select 1 from ${messages} where ${messages.id} = ${id})`;

const newMessageRows = recordset(messages, "m", [
  "id",
  "orgId",
  "threadId",
  "parentId",
  "senderUserId",
  "senderSessionId",
  "toKind",
  "toId",
  "subject",
  "body",
  "importance",
  "ackRequired",
  "until",
  "aboutKind",
  "aboutId",
  "aboutPath",
]);

/** What the database adds to a new message: its clock, and its sender as named then. */
export type WrittenMessage = MessageRow & { sender: Person };

/**
 * Inserts a message and delivers it to its audience as of now and to `alsoTo` (earlier writers
 * in the thread), in one statement: the deliveries ride along as a data-modifying CTE (their
 * foreign key to the message is checked at the statement's end, when the message is there), so
 * a send costs one round trip for both instead of two. Each delivery copies the message's search
 * vector, worked out once per send (an init plan). A user reached both ways gets the wider
 * delivery (not narrowed to one session). The sender's name comes back with it.
 *
 * With `onlyIf`, nothing is written unless it holds (a new thread's `audienceIsLive`), and the
 * answer is undefined: the check rides in the send's own transaction instead of a round trip
 * before it. Prepared from its first use (one text per audience kind, with or without earlier
 * writers or a condition), as the events' insert is: a send's transaction is pipelined, where
 * statements keep their order only when issued alike.
 */
export async function insertDelivered(db: Db, m: NewMessage, alsoTo: string[], onlyIf?: SQL): Promise<WrittenMessage | undefined> {
  const audience =
    m.toKind === "user"
      ? sql`select ${m.toId}::uuid as user_id, null::uuid as session_id`
      : m.toKind === "session"
        ? sql`select ${sessions.userId} as user_id, ${sessions.id} as session_id from ${sessions} where ${sessions.orgId} = ${m.orgId} and ${sessions.id} = ${m.toId}`
        : m.toKind === "team"
          ? sql`select ${teamMembers.userId} as user_id, null::uuid as session_id from ${teamMembers} where ${teamMembers.orgId} = ${m.orgId} and ${teamMembers.teamId} = ${m.toId}`
          : sql`select ${users.id} as user_id, null::uuid as session_id from ${users} where ${users.orgId} = ${m.orgId} and ${users.deletedAt} is null`;
  const writers =
    alsoTo.length > 0 ? sql` union select w::uuid, null::uuid from jsonb_array_elements_text(${JSON.stringify(alsoTo)}::jsonb) w` : sql``;
  const condition = onlyIf ?? sql`true`;
  const sender = personColumns(messages.senderUserId, messages.orgId);
  const [inserted] = await executePrepared<{ created_at: string | Date; sender_name: string; sender_deleted: boolean }>(
    db,
    `brigade_send_to_${m.toKind}${alsoTo.length > 0 ? "_and_writers" : ""}${onlyIf ? "_if_live" : ""}`,
    sql`with new_message as materialized (
      select * from jsonb_to_recordset(${JSON.stringify([newMessageRows.row(m)])}::text::jsonb) as ${newMessageRows.columns}
    ),
    delivered as (
      insert into ${messageDeliveries} (org_id, user_id, message_id, session_id, ack_required, search)
      select distinct on (a.user_id) ${m.orgId}::uuid, a.user_id, ${m.id}::uuid, a.session_id, ${m.ackRequired}::boolean,
        (select ${searchVector(sql`m.subject`, sql`m.body`)} from new_message m)
      from (${audience}${writers}) a where ${condition} order by a.user_id, a.session_id nulls first
      on conflict do nothing
    )
    insert into ${messages} (${newMessageRows.names})
    select ${newMessageRows.selected} from new_message m
    where ${condition}
    returning ${messages.createdAt} as created_at, ${sender.name} as sender_name, ${sender.deleted} as sender_deleted`,
  );
  if (!inserted) return undefined;
  // Everything else is what was written; the clock is the database's.
  return { ...m, createdAt: new Date(inserted.created_at), sender: { name: inserted.sender_name, deleted: inserted.sender_deleted } };
}

export async function findReadableMessage(db: Db, r: Reader, id: string): Promise<ReadMessage | undefined> {
  const [row] = await withReceipt(db, r).where(and(eq(messages.orgId, r.orgId), eq(messages.id, id), readableCondition(db, r)));
  return row;
}

export async function threadMessages(db: Db, r: Reader, threadId: string): Promise<ReadMessage[]> {
  const rows = await withReceipt(db, r)
    .where(and(eq(messages.orgId, r.orgId), eq(messages.threadId, threadId), readableCondition(db, r)))
    .orderBy(asc(messages.id));
  return rows;
}

export async function findMessage(db: Db, orgId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.orgId, orgId), eq(messages.id, id)));
  return row;
}

/** Distinct senders of a thread's messages (deleted users left out): who hears about a reply beside the audience. */
export async function threadSenders(db: Db, orgId: string, threadId: string): Promise<{ userId: string; sessionId: string | null }[]> {
  return db
    .selectDistinct({ userId: messages.senderUserId, sessionId: messages.senderSessionId })
    .from(messages)
    .innerJoin(users, and(eq(users.id, messages.senderUserId), isNull(users.deletedAt)))
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
export async function audienceSessions(db: Db, m: NewMessage): Promise<{ sessionId: string; userId: string }[]> {
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

/** Whether the audience a sender names exists in the organisation (a user may have been deleted). */
export async function audienceExists(
  db: Db,
  orgId: string,
  kind: "session" | "user" | "team",
  id: string,
): Promise<"found" | "missing" | "deleted"> {
  if (kind === "user") {
    const [user] = await db
      .select({ deletedAt: users.deletedAt })
      .from(users)
      .where(and(eq(users.orgId, orgId), eq(users.id, id)));
    return !user ? "missing" : user.deletedAt ? "deleted" : "found";
  }
  const table = kind === "session" ? sessions : teams;
  const [row] = await db
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.orgId, orgId), eq(table.id, id)));
  return row ? "found" : "missing";
}

/** Every (not deleted) user of the organisation: an organisation-wide message alerts each. */
export async function organisationUsers(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, orgId), isNull(users.deletedAt)));
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

/** This session's notice for the message in the outer query. */
const noticeOf = (sessionId: string) => and(eq(messageNotices.sessionId, sessionId), sql`${messageNotices.messageId} = ${messages.id}`);

/**
 * What a session's hooks may tell its agent, oldest first: messages delivered to it since the
 * session started that it has not read, was not told of and did not mute, and directives in
 * force it has not acknowledged, not told of yet or (with `repeatDirectives`) again. `told`
 * says whether it was told before.
 */
export async function noticeCandidates(
  db: Db,
  r: Reader & { sessionId: string },
  options: { repeatDirectives: boolean; limit: number },
): Promise<(ReadMessage & { told: boolean })[]> {
  const told = exists(db.select({ one: sql`1` }).from(messageNotices).where(noticeOf(r.sessionId)));
  const muted = sql`exists (select 1 from ${threadMutes} where ${threadMutes.threadId} = ${messages.threadId} and ${threadMutes.userId} = ${r.userId})`;
  const startedAt = sql`(select ${sessions.startedAt} from ${sessions} where ${sessions.orgId} = ${r.orgId} and ${sessions.id} = ${r.sessionId})`;
  const fresh = and(
    sql`not ${told}`,
    eq(messages.ackRequired, false),
    sql`${messages.createdAt} >= ${startedAt}`,
    notExists(db.select({ one: sql`1` }).from(messageReceipts).where(receiptOf(r))),
    sql`not ${muted}`,
  );
  const directive = and(
    eq(messages.ackRequired, true),
    options.repeatDirectives ? undefined : sql`not ${told}`,
    notExists(
      db
        .select({ one: sql`1` })
        .from(messageReceipts)
        .where(and(receiptOf(r), isNotNull(messageReceipts.acknowledgedAt))),
    ),
    or(isNull(messages.until), gt(messages.until, sql`now()`)),
  );
  const rows = await withReceipt(db, r, { delivered: true, extra: { told: sql<boolean>`${told}` } })
    .where(and(eq(messages.orgId, r.orgId), deliveredTo(r), sql`not (${sentByReader(r)})`, or(fresh, directive)))
    .orderBy(asc(messageDeliveries.messageId))
    .limit(options.limit);
  return rows;
}

/**
 * Records that the session was told of these messages, first or again; returns those this call
 * recorded, so two hook calls at once do not both tell of a new message.
 */
export async function recordNotices(
  db: Db,
  orgId: string,
  sessionId: string,
  shown: { id: string; told: boolean }[],
): Promise<Set<string>> {
  const recorded = new Set<string>();
  const first = shown.filter((m) => !m.told).map((m) => m.id);
  const again = shown.filter((m) => m.told).map((m) => m.id);
  if (first.length > 0) {
    const rows = await db
      .insert(messageNotices)
      .values(first.map((messageId) => ({ orgId, sessionId, messageId })))
      .onConflictDoNothing()
      .returning({ id: messageNotices.messageId });
    for (const row of rows) recorded.add(row.id);
  }
  if (again.length > 0) {
    const rows = await db
      .update(messageNotices)
      .set({ shownAt: sql`now()` })
      .where(and(eq(messageNotices.sessionId, sessionId), inArray(messageNotices.messageId, again)))
      .returning({ id: messageNotices.messageId });
    for (const row of rows) recorded.add(row.id);
  }
  return recorded;
}

/** One party to a claim's thread: a developer, and the agent's session that speaks for them. */
export interface ClaimParty {
  userId: string;
  sessionId: string;
}

/**
 * For each claim, the newest thread about it between `caller` and the claim's holder: started
 * by one of them and addressed to the other (their user, or the session named). Only such a
 * thread is offered: the caller reads it (they started it, or it was delivered to them), and
 * talking a claim over with its holder is not done in a third party's thread. One statement for
 * a whole refusal, however many claims it names, each a probe of the about index.
 */
export async function claimThreadIds(
  db: Db,
  orgId: string,
  caller: ClaimParty,
  claims: { claimId: string; holder: ClaimParty }[],
): Promise<Map<string, string>> {
  if (claims.length === 0) return new Map();
  const wanted = JSON.stringify(claims.map((c) => ({ claim_id: c.claimId, user_id: c.holder.userId, session_id: c.holder.sessionId })));
  const addressedTo = (userId: SQL, sessionId: SQL) =>
    sql`((${messages.toKind} = 'user' and ${messages.toId} = ${userId}) or (${messages.toKind} = 'session' and ${messages.toId} = ${sessionId}))`;
  const rows = await executeRows<{ claim_id: string; thread_id: string }>(
    db,
    sql`select distinct on (h.claim_id) h.claim_id, ${messages.id} as thread_id
      from jsonb_to_recordset(${wanted}::jsonb) as h(claim_id text, user_id uuid, session_id uuid)
      join ${messages} on ${messages.orgId} = ${orgId} and ${messages.aboutKind} = 'claim' and ${messages.aboutId} = h.claim_id
      where ${messages.threadId} = ${messages.id}
        and ((${messages.senderUserId} = ${caller.userId}::uuid and ${addressedTo(sql`h.user_id`, sql`h.session_id`)})
          or (${messages.senderUserId} = h.user_id and ${addressedTo(sql`${caller.userId}::uuid`, sql`${caller.sessionId}::uuid`)}))
      order by h.claim_id, ${messages.id} desc`,
  );
  return new Map(rows.map((r) => [r.claim_id, r.thread_id]));
}
