import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitFor } from "./wait.js";

/**
 * A PostgreSQL cluster and a nats-server of a test's own, on free loopback ports, which the test
 * may stop (even brutally) and start again without touching the machine's shared services.
 */

type Tap = { teardown(fn: () => unknown): void };
const run = promisify(execFile);
const PG_BIN = "/usr/lib/postgresql/15/bin";

export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** PostgreSQL refuses to run as root: as root, the cluster is the `postgres` user's. */
const asOwner = (cmd: string, args: string[]) =>
  process.getuid?.() === 0 ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args);

export interface OwnPostgres {
  port: number;
  /** The URL of database `name` (Brigade creates it at start) as the superuser. */
  url: (name: string) => string;
  /** `pg_ctl stop -m <mode>`: `immediate` is a crash (no shutdown checkpoint, clients cut off). */
  stop: (mode: "immediate" | "fast") => Promise<void>;
  /** Starts it and waits until it accepts connections. */
  start: () => Promise<void>;
}

export async function ownPostgres(t: Tap): Promise<OwnPostgres> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "brigade-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  await asOwner(`${PG_BIN}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await asOwner(`${PG_BIN}/pg_ctl`, ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  };
  const stop = async (mode: "immediate" | "fast") => {
    await asOwner(`${PG_BIN}/pg_ctl`, ["-D", data, "-m", mode, "-w", "stop"]);
  };
  await start();
  t.teardown(async () => {
    await stop("immediate").catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  return { port, url: (name) => `postgres://postgres@127.0.0.1:${port}/${name}`, stop, start };
}

export interface OwnNats {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

export async function ownNats(t: Tap): Promise<OwnNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "brigade-nats-"));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: "ignore" });
    await waitFor("nats-server to listen", () => reachable(port), 15_000);
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    c.kill("SIGTERM");
    await once(c, "exit");
  };
  t.teardown(async () => {
    await stop();
    await rm(storeDir, { recursive: true, force: true });
  });
  await start();
  return { url: `nats://127.0.0.1:${port}`, start, stop };
}
