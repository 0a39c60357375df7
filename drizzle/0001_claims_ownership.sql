CREATE SEQUENCE "public"."claim_fence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "claims" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"session_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"patterns" text[] NOT NULL,
	"mode" text NOT NULL,
	"reason" text,
	"fence" bigint DEFAULT nextval('claim_fence_seq') NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"broken_by" uuid,
	"version" bigint NOT NULL,
	CONSTRAINT "claims_fence_unique" UNIQUE("fence")
);
--> statement-breakpoint
CREATE TABLE "handoffs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"claim_id" uuid NOT NULL,
	"requester_session_id" uuid NOT NULL,
	"requester_user_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"note" text,
	"eta" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"answered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "repo_claim_versions" (
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"version" bigint NOT NULL,
	CONSTRAINT "repo_claim_versions_org_id_repo_pk" PRIMARY KEY("org_id","repo")
);
--> statement-breakpoint
CREATE TABLE "touches" (
	"org_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"path" text NOT NULL,
	"touched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "touches_session_id_path_pk" PRIMARY KEY("session_id","path")
);
--> statement-breakpoint
CREATE TABLE "codeowners_files" (
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"content" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid,
	CONSTRAINT "codeowners_files_org_id_repo_pk" PRIMARY KEY("org_id","repo")
);
--> statement-breakpoint
CREATE TABLE "repo_modules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"name" text NOT NULL,
	"patterns" text[] NOT NULL,
	"team_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_claim_id_claims_id_fk" FOREIGN KEY ("claim_id") REFERENCES "public"."claims"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_requester_session_id_sessions_id_fk" FOREIGN KEY ("requester_session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_requester_user_id_users_id_fk" FOREIGN KEY ("requester_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_claim_versions" ADD CONSTRAINT "repo_claim_versions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "touches" ADD CONSTRAINT "touches_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "touches" ADD CONSTRAINT "touches_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codeowners_files" ADD CONSTRAINT "codeowners_files_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codeowners_files" ADD CONSTRAINT "codeowners_files_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_modules" ADD CONSTRAINT "repo_modules_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_modules" ADD CONSTRAINT "repo_modules_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "claims_org_repo_status_idx" ON "claims" USING btree ("org_id","repo","status");--> statement-breakpoint
CREATE INDEX "claims_org_repo_version_idx" ON "claims" USING btree ("org_id","repo","version");--> statement-breakpoint
CREATE INDEX "claims_due_idx" ON "claims" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "claims_session_idx" ON "claims" USING btree ("session_id","status");--> statement-breakpoint
CREATE INDEX "handoffs_claim_idx" ON "handoffs" USING btree ("org_id","claim_id");--> statement-breakpoint
CREATE INDEX "touches_org_repo_path_idx" ON "touches" USING btree ("org_id","repo","path");--> statement-breakpoint
CREATE UNIQUE INDEX "repo_modules_name_uq" ON "repo_modules" USING btree ("org_id","repo","name");