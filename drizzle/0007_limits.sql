CREATE TABLE "org_limits" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"token_requests" integer,
	"org_requests" integer,
	"claim_patterns_per_org" integer,
	"claim_patterns_per_session" integer,
	"sockets_per_token" integer,
	"subscriptions_per_socket" integer,
	"subscriptions_per_token" integer,
	"contract_bytes_per_org" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_counters" (
	"key" text NOT NULL,
	"window" bigint NOT NULL,
	"used" integer NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rate_limit_counters_key_window_pk" PRIMARY KEY("key","window")
);
--> statement-breakpoint
ALTER TABLE "org_limits" ADD CONSTRAINT "org_limits_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;