ALTER TABLE "handoffs" ADD COLUMN "granted_claim_id" uuid;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_granted_claim_id_claims_id_fk" FOREIGN KEY ("granted_claim_id") REFERENCES "public"."claims"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Before the index: of several open requests by one session for one claim, the oldest stays open.
UPDATE "handoffs" SET "status" = 'cancelled' WHERE "id" IN (
  SELECT "id" FROM (
    SELECT "id", row_number() OVER (PARTITION BY "claim_id", "requester_session_id" ORDER BY "created_at", "id") AS "n"
    FROM "handoffs" WHERE "status" IN ('pending', 'deferred')
  ) AS "open" WHERE "n" > 1
);--> statement-breakpoint
CREATE UNIQUE INDEX "handoffs_open_idx" ON "handoffs" USING btree ("claim_id","requester_session_id") WHERE "handoffs"."status" in ('pending', 'deferred');