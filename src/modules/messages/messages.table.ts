import { type SQL, sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  foreignKey,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { aboutKinds, audienceKinds, importances } from "./messages.events.js";

export const readerKinds = ["user", "session"] as const;

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/**
 * A message's full-text vector ('simple' configuration: no language guessing on code-heavy
 * text). One definition for the message's generated column and the copy each delivery keeps.
 */
export const searchVector = (subject: SQL, body: SQL) => sql`to_tsvector('simple', ${subject} || ' ' || ${body})`;

/**
 * A message: a thread's first message (its `threadId` is its own id) or a reply in one. The
 * audience is one session, one user, one team or the whole organisation; a reply keeps its
 * thread's audience. `search` is kept by PostgreSQL itself (`searchVector`), so full-text
 * search needs no second write.
 */
export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    threadId: uuid("thread_id").notNull(),
    parentId: uuid("parent_id"),
    senderUserId: uuid("sender_user_id").notNull(),
    /** The sending agent's session, when a session token sent it. */
    senderSessionId: uuid("sender_session_id"),
    toKind: text("to_kind", { enum: audienceKinds }).notNull(),
    /** Null for the organisation. */
    toId: uuid("to_id"),
    subject: text("subject").notNull(),
    body: text("body").notNull(),
    importance: text("importance", { enum: importances }).notNull().default("normal"),
    ackRequired: boolean("ack_required").notNull().default(false),
    /** A directive stays in front of new sessions until then (null: until acknowledged). */
    until: timestamp("until", { withTimezone: true }),
    aboutKind: text("about_kind", { enum: aboutKinds }),
    /** The object's id, or for a path the repository key. */
    aboutId: text("about_id"),
    aboutPath: text("about_path"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    search: tsvector("search").notNull().generatedAlwaysAs(searchVector(sql`subject`, sql`body`)),
  },
  (t) => [
    index("messages_org_thread_idx").on(t.orgId, t.threadId, t.id),
    /** An organisation's messages oldest first: the retention sweep's range. */
    // Unique (as the id alone is) so that deliveries can reference a message with its organisation.
    uniqueIndex("messages_org_id_idx").on(t.orgId, t.id),
    index("messages_org_audience_idx").on(t.orgId, t.toKind, t.toId, t.id),
    index("messages_org_sender_idx").on(t.orgId, t.senderUserId, t.id),
    index("messages_org_about_idx").on(t.orgId, t.aboutKind, t.aboutId),
    index("messages_search_idx").using("gin", t.search),
    check("messages_to_ck", sql`(${t.toKind} = 'organisation') = (${t.toId} is null)`),
  ],
);

/**
 * Who a message was delivered to, written when it is sent: its audience as of then (a team's
 * members, everyone in the organisation, a session's developer with the session) and, for a
 * reply, everyone who wrote earlier in the thread. An inbox is then one index range per user,
 * however many messages the organisation holds. `session_id` narrows a delivery to one agent's
 * session; `ack_required` is copied so a directive inbox reads a partial index only.
 *
 * `search` is a copy of the message's vector, indexed with the user (GIN, with `btree_gin` for
 * the uuid): a member's search takes their matches from one index, where with the vector on the
 * message alone it walked the member's deliveries newest first and probed each message (a
 * common word: ~1,150 probes, ~4,700 buffers, 10 ms at 1,000,000 messages; now ~160 buffers,
 * 1.5 ms). A message's text never changes, so the copy never goes stale.
 */
export const messageDeliveries = pgTable(
  "message_deliveries",
  {
    orgId: uuid("org_id").notNull(),
    userId: uuid("user_id").notNull(),
    messageId: uuid("message_id").notNull(),
    sessionId: uuid("session_id"),
    ackRequired: boolean("ack_required").notNull(),
    search: tsvector("search").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.messageId] }),
    // One key for both: a delivery's message, in the delivery's organisation. Two (to orgs and
    // to messages) were two checks per row: half of a directive's insert of 1,000 deliveries.
    foreignKey({ columns: [t.orgId, t.messageId], foreignColumns: [messages.orgId, messages.id], name: "message_deliveries_message_fk" }),
    index("message_deliveries_search_idx").using("gin", t.userId, t.search),
    index("message_deliveries_directive_idx").on(t.userId, t.messageId).where(sql`${t.ackRequired}`),
    /** A message's deliveries, deleted with it by the retention sweep. */
    index("message_deliveries_message_idx").on(t.messageId),
  ],
);

/**
 * What one reader did with one message: a user (personal token) or an agent's session
 * (session token) each keep their own state, so a directive stays in front of every agent
 * until that agent acknowledges it.
 */
export const messageReceipts = pgTable(
  "message_receipts",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id),
    readerKind: text("reader_kind", { enum: readerKinds }).notNull(),
    readerId: uuid("reader_id").notNull(),
    userId: uuid("user_id").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.readerKind, t.readerId] }),
    index("message_receipts_reader_idx").on(t.readerId, t.messageId),
  ],
);

/** Threads a user muted: left out of their unread inbox and of alerts addressed to them alone. */
export const threadMutes = pgTable(
  "thread_mutes",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    threadId: uuid("thread_id").notNull(),
    userId: uuid("user_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.threadId, t.userId] })],
);

/**
 * Messages an agent's hooks have put in front of one session (`POST /v1/hooks/claude-code`),
 * so each is told once, and a directive's reminders are known to be reminders. Kept apart
 * from receipts: being told a subject is not reading the message.
 */
export const messageNotices = pgTable(
  "message_notices",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    sessionId: uuid("session_id").notNull(),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id),
    /** When it was last shown (a directive waiting for acknowledgement is shown again). */
    shownAt: timestamp("shown_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.messageId] }), index("message_notices_message_idx").on(t.messageId)],
);
