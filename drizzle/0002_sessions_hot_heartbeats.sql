DROP INDEX "sessions_due_idx";--> statement-breakpoint
CREATE INDEX "sessions_active_idx" ON "sessions" USING btree ("id") WHERE "sessions"."status" = 'active';--> statement-breakpoint
-- Free room on each page, so a heartbeat can rewrite its row in place (a HOT update).
ALTER TABLE "sessions" SET (fillfactor = 80);
