import { pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The tenant. Every table's `org_id` references it, the event log's included, so it sits below
 * every domain; identity creates and reads organisations through it.
 */
export const orgs = pgTable("orgs", {
  id: uuid("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
