import { and, desc, eq, gte, inArray, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
import type { ConflictResolution } from "./conflicts.events.js";
import { conflicts } from "./conflicts.table.js";

export type ConflictRow = typeof conflicts.$inferSelect;
export type NewConflict = Omit<
  ConflictRow,
  "status" | "openedAt" | "acknowledgedAt" | "resolvedAt" | "resolution" | "overlap" | "realCount" | "examples"
> &
  Partial<Pick<ConflictRow, "overlap" | "realCount" | "examples">>;

// Status tests are written as SQL literals so the planner can match the partial indexes
// (`where status <> 'resolved'`) in generic plans too, where a bound parameter would not.
const unresolved = sql`${conflicts.status} <> 'resolved'`;
const open = sql`${conflicts.status} = 'open'`;

/** One side of a conflict: a session, or a user (any of their sessions). */
export type Party = { sessionId: string } | { userId: string };

const partyCondition = (party: Party) =>
  "sessionId" in party
    ? or(eq(conflicts.sessionId, party.sessionId), eq(conflicts.otherSessionId, party.sessionId))!
    : or(eq(conflicts.userId, party.userId), eq(conflicts.otherUserId, party.userId))!;

/**
 * The conflicts matching `where`, locked in id order: updates of several conflicts (an ack, a
 * resolution) then take their row locks in one order and cannot deadlock one another.
 */
const lockedInOrder = (db: Db, where: SQL | undefined) =>
  inArray(conflicts.id, db.select({ id: conflicts.id }).from(conflicts).where(where).orderBy(conflicts.id).for("update"));

export async function insertConflicts(db: Db, rows: NewConflict[]): Promise<ConflictRow[]> {
  if (rows.length === 0) return [];
  return db.insert(conflicts).values(rows).returning();
}

export async function findConflict(db: Db, orgId: string, id: string): Promise<ConflictRow | undefined> {
  const [row] = await db
    .select()
    .from(conflicts)
    .where(and(eq(conflicts.orgId, orgId), eq(conflicts.id, id)));
  return row;
}

export interface ConflictFilter {
  orgId: string;
  /** Visibility: only conflicts this party is on. */
  visibleTo?: Party | undefined;
  status?: ConflictRow["status"] | "unresolved" | undefined;
  repo?: string | undefined;
  sessionId?: string | undefined;
  userId?: string | undefined;
  /** Opened at or after. */
  since?: Date | undefined;
  /** true: both sides one user's; false: two users'. */
  sameDeveloper?: boolean | undefined;
  beforeId?: string | undefined;
  limit: number;
}

export async function listConflicts(db: Db, f: ConflictFilter): Promise<ConflictRow[]> {
  const where: (SQL | undefined)[] = [eq(conflicts.orgId, f.orgId)];
  if (f.visibleTo) where.push(partyCondition(f.visibleTo));
  if (f.status === "unresolved") where.push(unresolved);
  else if (f.status) where.push(eq(conflicts.status, f.status));
  if (f.repo) where.push(eq(conflicts.repo, f.repo));
  if (f.sessionId) where.push(partyCondition({ sessionId: f.sessionId }));
  if (f.userId) where.push(partyCondition({ userId: f.userId }));
  if (f.since) where.push(gte(conflicts.openedAt, f.since));
  if (f.sameDeveloper !== undefined)
    where.push(f.sameDeveloper ? eq(conflicts.userId, conflicts.otherUserId) : ne(conflicts.userId, conflicts.otherUserId));
  if (f.beforeId) where.push(sql`${conflicts.id} < ${f.beforeId}`);
  return db
    .select()
    .from(conflicts)
    .where(and(...where))
    .orderBy(desc(conflicts.id))
    .limit(f.limit);
}

/** open → acknowledged; undefined when it was not open (already acknowledged, or resolved). */
export async function acknowledgeConflict(db: Db, orgId: string, id: string): Promise<ConflictRow | undefined> {
  const [row] = await db
    .update(conflicts)
    .set({ status: "acknowledged", acknowledgedAt: sql`now()` })
    .where(and(eq(conflicts.orgId, orgId), eq(conflicts.id, id), open))
    .returning();
  return row;
}

/** Acknowledges the open conflicts an event detected that this party is on. */
export async function acknowledgeConflictsOpenedBy(db: Db, orgId: string, eventId: string, party: Party): Promise<ConflictRow[]> {
  return db
    .update(conflicts)
    .set({ status: "acknowledged", acknowledgedAt: sql`now()` })
    .where(and(open, lockedInOrder(db, and(eq(conflicts.orgId, orgId), open, eq(conflicts.openedEventId, eventId), partyCondition(party)))))
    .returning();
}

/** Resolves every unresolved conflict that involves one of these claims or sessions. */
export async function resolveConflicts(
  db: Db,
  involving: { orgId: string; claimIds: string[] } | { sessionIds: string[] },
  resolution: ConflictResolution,
): Promise<ConflictRow[]> {
  const ids = "claimIds" in involving ? involving.claimIds : involving.sessionIds;
  if (ids.length === 0) return [];
  const match =
    "claimIds" in involving
      ? and(eq(conflicts.orgId, involving.orgId), or(inArray(conflicts.claimId, ids), inArray(conflicts.otherClaimId, ids)))
      : or(inArray(conflicts.sessionId, ids), inArray(conflicts.otherSessionId, ids));
  return db
    .update(conflicts)
    .set({ status: "resolved", resolvedAt: sql`now()`, resolution })
    .where(and(unresolved, lockedInOrder(db, and(unresolved, match))))
    .returning();
}

/**
 * Unresolved touch conflicts between this session and any of the others on any of these
 * paths (in either direction), so a file edited again does not open the same conflict twice.
 */
export async function unresolvedTouchConflicts(db: Db, orgId: string, sessionId: string, otherSessionIds: string[], paths: string[]) {
  if (otherSessionIds.length === 0 || paths.length === 0) return [];
  return db
    .select({ sessionId: conflicts.sessionId, otherSessionId: conflicts.otherSessionId, witness: conflicts.witness })
    .from(conflicts)
    .where(
      and(
        eq(conflicts.orgId, orgId),
        unresolved,
        eq(conflicts.kind, "touch"),
        inArray(conflicts.witness, paths),
        or(
          and(eq(conflicts.sessionId, sessionId), inArray(conflicts.otherSessionId, otherSessionIds)),
          and(eq(conflicts.otherSessionId, sessionId), inArray(conflicts.sessionId, otherSessionIds)),
        ),
      ),
    );
}
