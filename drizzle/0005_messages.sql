CREATE TABLE "message_receipts" (
	"org_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"reader_kind" text NOT NULL,
	"reader_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"read_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	CONSTRAINT "message_receipts_message_id_reader_kind_reader_id_pk" PRIMARY KEY("message_id","reader_kind","reader_id")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"thread_id" uuid NOT NULL,
	"parent_id" uuid,
	"sender_user_id" uuid NOT NULL,
	"sender_session_id" uuid,
	"to_kind" text NOT NULL,
	"to_id" uuid,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"importance" text DEFAULT 'normal' NOT NULL,
	"ack_required" boolean DEFAULT false NOT NULL,
	"until" timestamp with time zone,
	"about_kind" text,
	"about_id" text,
	"about_path" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', subject || ' ' || body)) STORED NOT NULL,
	CONSTRAINT "messages_to_ck" CHECK (("messages"."to_kind" = 'organisation') = ("messages"."to_id" is null))
);
--> statement-breakpoint
CREATE TABLE "thread_mutes" (
	"org_id" uuid NOT NULL,
	"thread_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "thread_mutes_thread_id_user_id_pk" PRIMARY KEY("thread_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "message_receipts" ADD CONSTRAINT "message_receipts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_receipts" ADD CONSTRAINT "message_receipts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "thread_mutes" ADD CONSTRAINT "thread_mutes_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "message_receipts_reader_idx" ON "message_receipts" USING btree ("reader_id","message_id");--> statement-breakpoint
CREATE INDEX "messages_org_thread_idx" ON "messages" USING btree ("org_id","thread_id","id");--> statement-breakpoint
CREATE INDEX "messages_org_audience_idx" ON "messages" USING btree ("org_id","to_kind","to_id","id");--> statement-breakpoint
CREATE INDEX "messages_org_sender_idx" ON "messages" USING btree ("org_id","sender_user_id","id");--> statement-breakpoint
CREATE INDEX "messages_org_about_idx" ON "messages" USING btree ("org_id","about_kind","about_id");--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin ("search");