-- Fewer foreign-key checks per row where rows come a thousand at a time (a directive's
-- deliveries and alerts): each check is a lookup of its own, run once per inserted row.
-- An alert keeps its key to its event (whose organisation it copies, in the same statement);
-- a delivery's two keys (to orgs and to messages) become one, to its message in its
-- organisation, which also holds the two organisations equal.
ALTER TABLE "alerts" DROP CONSTRAINT "alerts_org_id_orgs_id_fk";
--> statement-breakpoint
ALTER TABLE "message_deliveries" DROP CONSTRAINT "message_deliveries_org_id_orgs_id_fk";
--> statement-breakpoint
ALTER TABLE "message_deliveries" DROP CONSTRAINT "message_deliveries_message_id_messages_id_fk";
--> statement-breakpoint
DROP INDEX "messages_org_id_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "messages_org_id_idx" ON "messages" USING btree ("org_id","id");--> statement-breakpoint
ALTER TABLE "message_deliveries" ADD CONSTRAINT "message_deliveries_message_fk" FOREIGN KEY ("org_id","message_id") REFERENCES "public"."messages"("org_id","id") ON DELETE no action ON UPDATE no action;
