-- A queue entry keeps its request's onLatent, so the promotion excuses latent overlaps as the
-- request did. Entries already waiting were promoted with every overlap blocking: they keep that
-- (block); new entries are written with their request's value.
ALTER TABLE "claim_queue" ADD COLUMN "on_latent" text DEFAULT 'block' NOT NULL;--> statement-breakpoint
ALTER TABLE "claim_queue" ALTER COLUMN "on_latent" SET DEFAULT 'warn';
