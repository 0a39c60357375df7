import { AppError } from "./problem.js";

/**
 * Cursor pagination over time-ordered UUIDv7 ids, newest first: a cursor is the last id of
 * a page, opaque to clients.
 */
export const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new AppError(400, "pagination.invalid_cursor", "cursor is not one this server issued.", {
      errors: [{ field: "cursor", reason: "malformed" }],
    });
  }
  return id;
}

/** Splits a query's `limit + 1` rows into the page and the cursor of the next one. */
export function toPage<T extends { id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null };
}
