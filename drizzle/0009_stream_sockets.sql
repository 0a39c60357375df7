CREATE TABLE "stream_sockets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"token_key" text NOT NULL,
	"replica" uuid NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "stream_sockets" ADD CONSTRAINT "stream_sockets_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stream_sockets_token_idx" ON "stream_sockets" USING btree ("org_id","token_key");--> statement-breakpoint
CREATE INDEX "stream_sockets_replica_idx" ON "stream_sockets" USING btree ("replica");