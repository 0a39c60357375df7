/** `npm run migrate`: applies the migrations in drizzle/ to the configured database. */
import { loadConfig } from "../config.js";
import { migrateDatabase } from "./db.js";

const config = loadConfig(process.env);
await migrateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BRIGADE_DATA_DIR, poolSize: 1 });
console.log(`migrations applied to ${config.DATABASE_URL ? "PostgreSQL" : `PGlite in ${config.BRIGADE_DATA_DIR}`}`);
