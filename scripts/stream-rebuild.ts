/**
 * `npm run stream:rebuild`: rebuilds the JetStream stream from the event log in PostgreSQL,
 * after NATS lost it (see the README, "Backups"). Reads the same settings as the server
 * (DATABASE_URL, NATS_URL, NATS_SUBJECT_PREFIX, NATS_STREAM, NATS_STREAM_REPLICAS, …).
 * Refuses a stream that is not empty. Exit 0 with a summary on stderr; 1 with one line on failure.
 */
import pino from "pino";
import { rebuildStreamFromLog } from "../src/app.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { startupFailure } from "../src/infra/startup.js";

try {
  const config = loadConfig(process.env);
  const log = pino({ level: config.LOG_LEVEL });
  const started = Date.now();
  const result = await rebuildStreamFromLog(config, log);
  process.stderr.write(
    `stream rebuilt: ${result.events} events (${result.messages} messages) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  process.exit(0);
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : startupFailure(err).replace(/^Brigade failed to start: /, "stream:rebuild failed: ")}\n`,
  );
  process.exit(1);
}
