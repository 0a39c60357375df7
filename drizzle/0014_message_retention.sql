ALTER TABLE "org_limits" ADD COLUMN "message_retention_days" integer;--> statement-breakpoint
CREATE INDEX "message_deliveries_message_idx" ON "message_deliveries" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "message_notices_message_idx" ON "message_notices" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "messages_org_id_idx" ON "messages" USING btree ("org_id","id");