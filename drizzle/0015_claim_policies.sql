CREATE TABLE "claim_policies" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"same_developer" text DEFAULT 'warn' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid
);
--> statement-breakpoint
ALTER TABLE "claim_policies" ADD CONSTRAINT "claim_policies_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claim_policies" ADD CONSTRAINT "claim_policies_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;