CREATE TABLE "repo_trees" (
	"org_id" uuid NOT NULL,
	"repo" text NOT NULL,
	"tree_id" text NOT NULL,
	"branch" text,
	"commit_id" text,
	"files" integer NOT NULL,
	"paths" "bytea" NOT NULL,
	"generation" bigint DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid,
	"session_id" uuid,
	CONSTRAINT "repo_trees_org_id_repo_pk" PRIMARY KEY("org_id","repo")
);
--> statement-breakpoint
ALTER TABLE "conflicts" ADD COLUMN "overlap" text;--> statement-breakpoint
ALTER TABLE "conflicts" ADD COLUMN "real_count" integer;--> statement-breakpoint
ALTER TABLE "conflicts" ADD COLUMN "examples" text[];--> statement-breakpoint
ALTER TABLE "repo_trees" ADD CONSTRAINT "repo_trees_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repo_trees" ADD CONSTRAINT "repo_trees_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;