import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import t from "tap";
import { testEnv } from "./helpers/app.js";
import { provisionBackends } from "./helpers/services.js";

/**
 * Starting the real process (`src/server.ts`): a failed start is one line naming the thing, its
 * address and the setting to change, with a non-zero exit; the banner goes to stderr and the log
 * lines to stdout as JSON; SIGTERM drains (not ready at once, still serving) and then exits.
 */

/** A port nothing listens on: bound, read, released. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Runs the server until it exits on its own; its exit code and both outputs. */
async function runToExit(env: Record<string, string>, timeoutMs = 60_000) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = await once(child, "exit");
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

/** The lines a person sees: stderr without Node's own warnings. */
const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "" && !/ExperimentalWarning|--trace-warnings/.test(l));

t.test("when a dependency is unreachable or the port is taken, then start fails in one line naming it", async (t) => {
  const backends = await provisionBackends();
  t.teardown(() => backends.dropDatabase());
  const database: Record<string, string> = backends.databaseUrl
    ? { DATABASE_URL: backends.databaseUrl }
    : { BRIGADE_DATA_DIR: "memory://" };

  const [closedPort, natsPort] = await Promise.all([freePort(), freePort()]);
  const busy: Server = createServer();
  busy.listen(0, "127.0.0.1");
  await once(busy, "listening");
  t.teardown(() => new Promise((r) => busy.close(r)));
  const busyPort = (busy.address() as { port: number }).port;

  const [noDatabase, noNats, portTaken] = await Promise.all([
    runToExit(testEnv({ LOG_LEVEL: "info", DATABASE_URL: `postgres://someone:secret-password@127.0.0.1:${closedPort}/brigade` })),
    runToExit(testEnv({ LOG_LEVEL: "info", ...database, NATS_URL: `nats://127.0.0.1:${natsPort}` })),
    runToExit(testEnv({ LOG_LEVEL: "info", ...database, PORT: String(busyPort) })),
  ]);

  t.equal(noDatabase.code, 1, "unreachable PostgreSQL: exit 1");
  t.same(lines(noDatabase.stderr), [`Brigade cannot reach PostgreSQL at 127.0.0.1:${closedPort} (connection refused); check DATABASE_URL`]);
  t.notMatch(noDatabase.stderr + noDatabase.stdout, /secret-password/, "the password is not printed");

  t.equal(noNats.code, 1, "unreachable NATS: exit 1");
  t.same(lines(noNats.stderr), [`Brigade cannot reach NATS at 127.0.0.1:${natsPort} (connection refused); check NATS_URL`]);

  t.equal(portTaken.code, 1, "busy port: exit 1");
  t.same(lines(portTaken.stderr), [
    `Brigade cannot listen on 127.0.0.1:${busyPort} (address already in use); another process holds it; set PORT (or HOST) to another`,
  ]);
  for (const run of [noDatabase, noNats, portTaken]) t.notMatch(run.stderr, /^\s+at /m, "no stack trace");
});

t.test("when the server runs, then the banner is on stderr, JSON log lines on stdout, and SIGTERM drains then exits", async (t) => {
  const backends = await provisionBackends();
  t.teardown(() => backends.dropDatabase());
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      ...testEnv({ LOG_LEVEL: "info", HOST: "127.0.0.1", PORT: "0", SHUTDOWN_DRAIN_DELAY_SECONDS: "1", SHUTDOWN_GRACE_SECONDS: "8" }),
      ...(backends.databaseUrl ? { DATABASE_URL: backends.databaseUrl } : { BRIGADE_DATA_DIR: "memory://" }),
      ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
      BRIGADE_BOOTSTRAP_TOKEN: "server-start-root-token-0123456789",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const started = Date.now();
  let url: string | undefined;
  while (!url) {
    url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
    if (Date.now() - started > 60_000) throw new Error(`no banner: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(stderr, /database: (PostgreSQL|embedded PGlite)/, "the banner is on stderr");
  t.equal((await fetch(`${url}/readyz`)).status, 200, "ready");

  const exited = once(child, "exit");
  const signalled = Date.now();
  child.kill("SIGTERM");
  // At once: not ready, saying why, and still serving requests (the load balancer moves away).
  let draining: { status: number; body: { code?: string } } | undefined;
  for (let i = 0; i < 20 && !draining; i++) {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as { code?: string };
    if (res.status === 503) draining = { status: res.status, body };
    else await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(draining?.body.code, "server.draining", "/readyz is 503 server.draining while draining");
  t.equal((await fetch(`${url}/healthz`)).status, 200, "still serving during the drain delay");
  const [code] = await exited;
  const tookMs = Date.now() - signalled;
  t.equal(code, 0, "exit 0");
  t.ok(tookMs >= 1_000 && tookMs < 8_000, `stopped after the drain delay, inside the grace period (${tookMs} ms)`);

  const logLines = stdout.split("\n").filter((l) => l.trim() !== "");
  t.ok(logLines.length > 0, "the server logged something");
  t.ok(
    logLines.every((l) => {
      try {
        return typeof JSON.parse(l).level === "number";
      } catch {
        return false;
      }
    }),
    "every stdout line is a JSON log line",
  );
  t.notMatch(stdout, /listening on/, "the banner is not on stdout");
  t.match(stdout, /"msg":"draining"/, "the drain is logged");
});
