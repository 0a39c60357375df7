/** Process entry: config → buildApp → listen → graceful close on SIGINT/SIGTERM. */
import { setFlagsFromString } from "node:v8";
import { buildApp } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { isDatabaseUnavailable } from "./infra/db.js";

// postgres.js fetches array types on each new connection without observing that query's
// promise: a connection that dies while it is being set up (PostgreSQL stopping, a backend
// terminated) rejects it unhandled, which would end the process. Those are logged and
// dropped (the next query reconnects); any other unhandled rejection still ends the process.
let warnUnobserved = (err: unknown) => console.error(`database connection failed while being set up: ${String(err)}`);
process.on("unhandledRejection", (reason) => {
  if (!isDatabaseUnavailable(reason)) throw reason;
  warnUnobserved(reason);
});
// Also seen under PostgreSQL faults (postgres.js 3.4.9): a write scheduled with `setImmediate`
// on a connection whose socket has since closed throws from `nextWrite`, outside any query.
// The connection's queries were already failed; the process goes on. Anything else still ends it.
process.on("uncaughtException", (err) => {
  if (err instanceof TypeError && /postgres\/src\/connection\.js/.test(err.stack ?? "")) return warnUnobserved(err);
  console.error(err);
  process.exit(1);
});

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

// A process setting, so it lives here and not in buildApp (V8 reads it at every full collection).
if (config.HEAP_GROWTH_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWTH_PERCENT}`);

const built = await buildApp(config).catch((err: unknown) => {
  console.error(`Brigade failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
const { app, database, bus, initialAdminToken } = built;
warnUnobserved = (err) => app.log.warn({ err }, "database connection failed while being set up; the next query reconnects");
const address = await app.listen({ port: config.PORT, host: config.HOST });

const lines = [
  `Brigade is listening on ${address}`,
  `  database: ${database.kind === "pglite" ? `embedded PGlite in ${database.location}` : `PostgreSQL at ${database.location}`}`,
  `  event bus: ${bus.kind === "nats" ? `NATS at ${bus.location}` : "in-process (set NATS_URL for NATS)"}`,
  initialAdminToken
    ? `  first start: organisation "default" and user "admin" created. Admin token (shown once, keep it safe):\n\n    ${initialAdminToken}\n`
    : config.BRIGADE_BOOTSTRAP_TOKEN
      ? "  auth: send BRIGADE_BOOTSTRAP_TOKEN as a bearer token to act as the admin, or mint tokens with POST /v1/tokens"
      : "  auth: send a Brigade token as `Authorization: Bearer <token>`; mint more with POST /v1/tokens",
  `  dashboard: ${address}/ (paste a token to sign in)`,
  `  try: curl ${address}/healthz`,
];
// The banner goes to stdout directly: it is for the person who started the server, not the log.
process.stdout.write(`${lines.join("\n")}\n`);

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, "shutting down");
  const force = setTimeout(() => {
    app.log.error("shutdown grace period over; exiting");
    process.exit(1);
  }, config.SHUTDOWN_GRACE_SECONDS * 1000);
  force.unref();
  await app.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
