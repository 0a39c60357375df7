CREATE TABLE "repo_link_templates" (
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"template" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid,
	CONSTRAINT "repo_link_templates_org_id_repo_pk" PRIMARY KEY("org_id","repo")
);
--> statement-breakpoint
ALTER TABLE "repo_link_templates" ADD CONSTRAINT "repo_link_templates_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_link_templates" ADD CONSTRAINT "repo_link_templates_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;