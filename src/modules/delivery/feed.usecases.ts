import type { Db } from "../../infra/db.js";
import { AppError } from "../../http/problem.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Principal } from "../identity/identity.schemas.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { eventErrors } from "./delivery.errors.js";
import { findEventCursor, listEvents, teamMemberIds, type EventQuery } from "./feed.repository.js";
import type { FeedQuery } from "./feed.schemas.js";
import { parseTypeFilter } from "../../events/visibility.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An `after`/`before` bound: an event id (exclusive, by log order) or a time (exclusive). */
async function bound(db: Db, orgId: string, value: string, field: "after" | "before"): Promise<{ seq: number } | { time: Date }> {
  if (!UUID.test(value)) return { time: new Date(value) };
  const cursor = await findEventCursor(db, orgId, value);
  if (!cursor)
    throw eventErrors.unknownCursor(`No event ${value} in this organisation (or it is past the event log's retention).`, {
      errors: [{ field, reason: "unknown event id, or past retention" }],
    });
  return { seq: cursor.seq };
}

/**
 * The activity feed: the organisation's log as the caller's role may see it, filtered and
 * paged by cursor in log order, oldest first (the default) or newest first.
 */
export async function readEvents({ db }: { db: Db }, principal: Principal, query: FeedQuery) {
  const q: EventQuery = {
    orgId: principal.orgId,
    viewer: { role: principal.role, userId: principal.userId },
    type: query.type ? parseTypeFilter(query.type) : undefined,
    repo: query.repo !== undefined ? repoKeyOrThrow(query.repo).key : undefined,
    userId: query.user,
    team: query.team ? { id: query.team, memberIds: await teamMemberIds(db, principal.orgId, query.team) } : undefined,
  };
  for (const field of ["after", "before"] as const) {
    const value = query[field];
    if (!value) continue;
    const b = await bound(db, principal.orgId, value, field);
    if ("seq" in b) q[field === "after" ? "afterSeq" : "beforeSeq"] = b.seq;
    else q[field === "after" ? "afterTime" : "beforeTime"] = b.time;
  }
  if (query.cursor) {
    const id = decodeCursor(query.cursor);
    const cursor = await findEventCursor(db, principal.orgId, id);
    if (!cursor)
      throw new AppError(400, "pagination.invalid_cursor", "cursor is not one this server issued.", {
        errors: [{ field: "cursor", reason: "unknown" }],
      });
    // The cursor continues the page in its direction; it narrows, never widens, after/before.
    if (query.order === "asc") q.afterSeq = Math.max(q.afterSeq ?? 0, cursor.seq);
    else q.beforeSeq = Math.min(q.beforeSeq ?? Number.MAX_SAFE_INTEGER, cursor.seq);
  }
  const rows = await listEvents(db, q, query.order, query.limit + 1);
  return toPage(rows, query.limit);
}
