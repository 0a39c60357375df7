CREATE SEQUENCE "public"."event_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"type" text NOT NULL,
	"recipient_type" text NOT NULL,
	"recipient_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acked_at" timestamp with time zone,
	"acked_by" jsonb
);
--> statement-breakpoint
CREATE TABLE "conflicts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"session_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"other_session_id" uuid NOT NULL,
	"other_user_id" uuid NOT NULL,
	"claim_id" uuid,
	"other_claim_id" uuid,
	"pattern" text,
	"other_pattern" text,
	"witness" text NOT NULL,
	"opened_event_id" uuid NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"resolution" text
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "position" bigint;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conflicts" ADD CONSTRAINT "conflicts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_recipient_idx" ON "alerts" USING btree ("org_id","recipient_type","recipient_id","created_at");--> statement-breakpoint
CREATE INDEX "alerts_unacked_idx" ON "alerts" USING btree ("org_id","recipient_type","recipient_id") WHERE "alerts"."acked_at" is null;--> statement-breakpoint
CREATE INDEX "alerts_event_idx" ON "alerts" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "conflicts_org_status_idx" ON "conflicts" USING btree ("org_id","status","opened_at");--> statement-breakpoint
CREATE INDEX "conflicts_open_claim_idx" ON "conflicts" USING btree ("claim_id") WHERE "conflicts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "conflicts_open_other_claim_idx" ON "conflicts" USING btree ("other_claim_id") WHERE "conflicts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "conflicts_open_session_idx" ON "conflicts" USING btree ("session_id") WHERE "conflicts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "conflicts_open_other_session_idx" ON "conflicts" USING btree ("other_session_id") WHERE "conflicts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "events_org_position_idx" ON "events" USING btree ("org_id","position");--> statement-breakpoint
CREATE INDEX "events_outbox_idx" ON "events" USING btree ("seq") WHERE "events"."position" is null;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_position_unique" UNIQUE("position");