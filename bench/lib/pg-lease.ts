import { scratchDatabase } from "./brigade.js";
import { freePort, ServerProcess, type ExitInfo } from "./child.js";

export interface PgLeaseServer {
  url: string;
  /** Its scratch database, whose backends' CPU the bench counts. */
  databaseName: string;
  process: ServerProcess;
  /** Stops the server, then drops its database. */
  stop(): Promise<ExitInfo>;
}

/** Starts pg-lease-server.mjs (plain node) on a scratch database, with Brigade's default pool size. */
export async function startPgLease(): Promise<PgLeaseServer> {
  const database = await scratchDatabase("brigade_bench_pglease");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server: ServerProcess;
  try {
    server = await ServerProcess.start({
      name: "pg-lease",
      entry: "bench/lib/pg-lease-server.mjs",
      readyUrl: `${url}/`,
      env: { PORT: String(port), DATABASE_URL: database.url, POOL_SIZE: "20" },
    });
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    url,
    databaseName: new URL(database.url).pathname.slice(1),
    process: server,
    async stop() {
      const exit = await server.stop();
      await database.drop();
      return exit;
    },
  };
}
