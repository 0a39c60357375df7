ALTER TABLE "contracts" ADD COLUMN "dangerous" text DEFAULT 'allow' NOT NULL;--> statement-breakpoint
ALTER TABLE "contracts" ADD COLUMN "protobuf_category" text;