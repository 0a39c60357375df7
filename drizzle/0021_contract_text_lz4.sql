-- Contract texts are megabytes (a 2,000-operation OpenAPI document is ~3 MB as YAML and ~4 MB
-- normalised), written in the publish request's transaction. PostgreSQL's default TOAST
-- compression (pglz) spent ~100 ms of the backend's CPU per publish on them; lz4 does the same
-- job several times faster. Already stored values keep pglz until rewritten, which PostgreSQL
-- reads as before. A server built without lz4 (the embedded PGlite is one) keeps pglz.
DO $$
BEGIN
  ALTER TABLE "contract_versions" ALTER COLUMN "content" SET COMPRESSION lz4;
  ALTER TABLE "contract_versions" ALTER COLUMN "normalized" SET COMPRESSION lz4;
  ALTER TABLE "contract_proposals" ALTER COLUMN "content" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available: contract texts keep the default compression';
END $$;
