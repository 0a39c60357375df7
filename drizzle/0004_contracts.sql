CREATE TABLE "contract_consumers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"contract_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"team_id" uuid,
	"user_id" uuid,
	"repo" text,
	"patterns" text[],
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contract_consumers_shape_ck" CHECK (("contract_consumers"."kind" = 'team' and "contract_consumers"."team_id" is not null and "contract_consumers"."user_id" is null and "contract_consumers"."repo" is null)
        or ("contract_consumers"."kind" = 'user' and "contract_consumers"."user_id" is not null and "contract_consumers"."team_id" is null and "contract_consumers"."repo" is null)
        or ("contract_consumers"."kind" = 'repo' and "contract_consumers"."repo" is not null and "contract_consumers"."patterns" is not null and "contract_consumers"."team_id" is null and "contract_consumers"."user_id" is null))
);
--> statement-breakpoint
CREATE TABLE "contract_proposal_answers" (
	"proposal_id" uuid NOT NULL,
	"consumer_id" uuid NOT NULL,
	"org_id" uuid NOT NULL,
	"answer" text NOT NULL,
	"comment" text,
	"answered_by" uuid NOT NULL,
	"session_id" uuid,
	"answered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contract_proposal_answers_proposal_id_consumer_id_pk" PRIMARY KEY("proposal_id","consumer_id")
);
--> statement-breakpoint
CREATE TABLE "contract_proposals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"contract_id" uuid NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"label" text,
	"description" text,
	"session_id" uuid,
	"proposed_by" uuid NOT NULL,
	"base_version_id" uuid,
	"hash" text NOT NULL,
	"content" text NOT NULL,
	"changes" jsonb NOT NULL,
	"changes_total" integer NOT NULL,
	"summary" jsonb NOT NULL,
	"compatibility" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" uuid,
	"version_id" uuid
);
--> statement-breakpoint
CREATE TABLE "contract_risks" (
	"contract_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"org_id" uuid NOT NULL,
	"claim_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contract_risks_contract_id_session_id_pk" PRIMARY KEY("contract_id","session_id")
);
--> statement-breakpoint
CREATE TABLE "contract_versions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"contract_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"label" text NOT NULL,
	"hash" text NOT NULL,
	"content" text NOT NULL,
	"normalized" text NOT NULL,
	"branch" text,
	"session_id" uuid,
	"published_by" uuid NOT NULL,
	"previous_version_id" uuid,
	"changes" jsonb NOT NULL,
	"changes_total" integer NOT NULL,
	"summary" jsonb NOT NULL,
	"compatibility" jsonb NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"force_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contracts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"description" text,
	"provider_team_id" uuid NOT NULL,
	"repo" text,
	"source_patterns" text[] DEFAULT '{}'::text[] NOT NULL,
	"compatibility" text DEFAULT 'backward' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "repo_contract_versions" (
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"version" bigint NOT NULL,
	CONSTRAINT "repo_contract_versions_org_id_repo_pk" PRIMARY KEY("org_id","repo")
);
--> statement-breakpoint
ALTER TABLE "contract_consumers" ADD CONSTRAINT "contract_consumers_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_consumers" ADD CONSTRAINT "contract_consumers_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_consumers" ADD CONSTRAINT "contract_consumers_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_consumers" ADD CONSTRAINT "contract_consumers_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_consumers" ADD CONSTRAINT "contract_consumers_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposal_answers" ADD CONSTRAINT "contract_proposal_answers_proposal_id_contract_proposals_id_fk" FOREIGN KEY ("proposal_id") REFERENCES "public"."contract_proposals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposal_answers" ADD CONSTRAINT "contract_proposal_answers_consumer_id_contract_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."contract_consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposal_answers" ADD CONSTRAINT "contract_proposal_answers_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposal_answers" ADD CONSTRAINT "contract_proposal_answers_answered_by_users_id_fk" FOREIGN KEY ("answered_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposal_answers" ADD CONSTRAINT "contract_proposal_answers_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_proposed_by_users_id_fk" FOREIGN KEY ("proposed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_base_version_id_contract_versions_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "public"."contract_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_closed_by_users_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_proposals" ADD CONSTRAINT "contract_proposals_version_id_contract_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."contract_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_risks" ADD CONSTRAINT "contract_risks_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_risks" ADD CONSTRAINT "contract_risks_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_risks" ADD CONSTRAINT "contract_risks_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_versions" ADD CONSTRAINT "contract_versions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_versions" ADD CONSTRAINT "contract_versions_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_versions" ADD CONSTRAINT "contract_versions_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_versions" ADD CONSTRAINT "contract_versions_published_by_users_id_fk" FOREIGN KEY ("published_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_provider_team_id_teams_id_fk" FOREIGN KEY ("provider_team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_contract_versions" ADD CONSTRAINT "repo_contract_versions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "contract_consumers_team_uq" ON "contract_consumers" USING btree ("contract_id","team_id") WHERE "contract_consumers"."kind" = 'team';--> statement-breakpoint
CREATE UNIQUE INDEX "contract_consumers_user_uq" ON "contract_consumers" USING btree ("contract_id","user_id") WHERE "contract_consumers"."kind" = 'user';--> statement-breakpoint
CREATE UNIQUE INDEX "contract_consumers_repo_uq" ON "contract_consumers" USING btree ("contract_id","repo","patterns") WHERE "contract_consumers"."kind" = 'repo';--> statement-breakpoint
CREATE INDEX "contract_proposals_contract_idx" ON "contract_proposals" USING btree ("contract_id","status");--> statement-breakpoint
CREATE INDEX "contract_proposals_hash_idx" ON "contract_proposals" USING btree ("contract_id","hash") WHERE "contract_proposals"."status" = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX "contract_versions_seq_uq" ON "contract_versions" USING btree ("contract_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "contract_versions_label_uq" ON "contract_versions" USING btree ("contract_id","label");--> statement-breakpoint
CREATE INDEX "contract_versions_hash_idx" ON "contract_versions" USING btree ("contract_id","hash");--> statement-breakpoint
CREATE UNIQUE INDEX "contracts_org_name_uq" ON "contracts" USING btree ("org_id","name");--> statement-breakpoint
CREATE INDEX "contracts_org_repo_idx" ON "contracts" USING btree ("org_id","repo");