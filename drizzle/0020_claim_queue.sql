CREATE SEQUENCE "public"."claim_queue_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "claim_queue" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint DEFAULT nextval('claim_queue_seq') NOT NULL,
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"session_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"patterns" text[] NOT NULL,
	"mode" text NOT NULL,
	"reason" text,
	"ttl_seconds" integer NOT NULL,
	"same_developer" text NOT NULL,
	"status" text DEFAULT 'waiting' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"granted_claim_id" uuid
);
--> statement-breakpoint
ALTER TABLE "claim_queue" ADD CONSTRAINT "claim_queue_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_queue" ADD CONSTRAINT "claim_queue_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_queue" ADD CONSTRAINT "claim_queue_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_queue" ADD CONSTRAINT "claim_queue_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_queue" ADD CONSTRAINT "claim_queue_granted_claim_id_claims_id_fk" FOREIGN KEY ("granted_claim_id") REFERENCES "public"."claims"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "claim_queue_waiting_idx" ON "claim_queue" USING btree ("org_id","repo","seq") WHERE "claim_queue"."status" = 'waiting';--> statement-breakpoint
CREATE INDEX "claim_queue_session_idx" ON "claim_queue" USING btree ("session_id","status");--> statement-breakpoint
CREATE INDEX "claim_queue_due_idx" ON "claim_queue" USING btree ("expires_at") WHERE "claim_queue"."status" = 'waiting';