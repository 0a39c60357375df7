/** Process entry: config → buildApp → listen → drain and close on SIGINT/SIGTERM. */
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
import { listenFailure, startupFailure } from "./infra/startup.js";

// People read stderr (the banner, a failed start in one line); machines read stdout (JSON log lines).
const say = (text: string) => process.stderr.write(`${text}\n`);

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    say(err.message);
    process.exit(2);
  }
  throw err;
}

// A process setting, so it lives here and not in buildApp (V8 reads it at every full collection).
if (config.HEAP_GROWTH_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWTH_PERCENT}`);

const built = await buildApp(config).catch((err: unknown) => {
  say(startupFailure(err));
  process.exit(1);
});
const { app, database, bus, initialAdminToken, lifecycle } = built;
warnUnobserved = (err) => app.log.warn({ err }, "database connection failed while being set up; the next query reconnects");
let address: string;
try {
  address = await app.listen({ port: config.PORT, host: config.HOST });
} catch (err) {
  say(listenFailure(err, config.HOST, config.PORT));
  await app.close().catch(() => undefined);
  process.exit(1);
}

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
say(lines.join("\n"));

/**
 * A rolling restart's stop: not ready at once (/readyz 503 `server.draining`) while still serving,
 * so load balancers move traffic away during SHUTDOWN_DRAIN_DELAY_SECONDS; then closing the app
 * stops accepting connections, finishes in-flight requests, closes WebSockets with 1001 (clients
 * reconnect to another replica), stops the relay (releasing its lock, so another replica's relay
 * takes over) and closes the bus and the database. SHUTDOWN_GRACE_SECONDS bounds the whole.
 */
let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  lifecycle.drain();
  // Ctrl-C at a terminal has no load balancer to wait for.
  const delaySeconds = signal === "SIGINT" ? 0 : config.SHUTDOWN_DRAIN_DELAY_SECONDS;
  app.log.info({ signal, drainDelaySeconds: delaySeconds }, "draining");
  const force = setTimeout(() => {
    app.log.error("shutdown grace period over; exiting");
    process.exit(1);
  }, config.SHUTDOWN_GRACE_SECONDS * 1000);
  force.unref();
  // A second signal (an impatient Ctrl-C) skips the rest of the delay.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, delaySeconds * 1000);
    const skip = () => {
      clearTimeout(timer);
      resolve();
    };
    process.prependOnceListener("SIGINT", skip);
    process.prependOnceListener("SIGTERM", skip);
  });
  const started = Date.now();
  await app.close();
  app.log.info({ closeMs: Date.now() - started }, "stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
