ALTER TABLE "sessions" ADD COLUMN "client_session_id" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "opened_by" text;--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_live_client_uq" ON "sessions" USING btree ("org_id","user_id","client_session_id") WHERE "sessions"."status" = 'active' and "sessions"."client_session_id" is not null;