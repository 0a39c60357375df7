import type { BrigadeServer } from "./brigade.js";
import { freePort, ServerProcess } from "./child.js";

export interface OutboxFloorServer {
  url: string;
  /** Where its messages are published (a stream of its own, deleted when it stops). */
  subject: string;
  process: ServerProcess;
}

/**
 * Starts the outbox floor (outbox-floor-server.mjs, plain node) on Brigade's PostgreSQL
 * database (a table of its own) and NATS, the way the ceilings are started.
 */
export async function startOutboxFloor(brigade: BrigadeServer, natsUrl: string): Promise<OutboxFloorServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const subject = `bench.floor.${process.pid}.${port}`;
  const server = await ServerProcess.start({
    name: "outbox-floor",
    entry: "bench/lib/outbox-floor-server.mjs",
    readyUrl: `${url}/`,
    env: {
      PORT: String(port),
      DATABASE_URL: brigade.databaseUrl,
      NATS_URL: natsUrl,
      FLOOR_SUBJECT: subject,
      FLOOR_STREAM: `BENCH_FLOOR_${process.pid}_${port}`,
    },
  });
  return { url, subject, process: server };
}
