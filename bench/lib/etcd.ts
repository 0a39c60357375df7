/**
 * etcd as a reference lock service: Debian's `etcd-server` (3.4), started on loopback on free
 * ports with a temporary data directory, spoken to through its v3 JSON gateway over HTTP/1.1
 * (keys and values base64), so neither the harness nor autocannon needs an etcd client.
 *
 * The data directory is on the same filesystem as PostgreSQL's by default (os.tmpdir(); set
 * BENCH_ETCD_DIR to move it), so both pay the same fsync cost for a durable write.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ServerProcess, type ExitInfo } from "./child.js";
import { onCleanup } from "./cleanup.js";

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export interface EtcdServer {
  url: string;
  version: string;
  dataDir: string;
  process: ServerProcess;
  /** Grants a lease (seconds); returns its id as the decimal string the gateway uses. */
  grantLease(ttlSeconds: number): Promise<string>;
  /** The txn body of a put-if-absent bound to a lease: compare create_revision(key) == 0 → put. */
  putIfAbsentBody(key: string, value: string, lease: string): string;
  /** Runs one txn; true when the put happened (the key was absent). */
  putIfAbsent(key: string, value: string, lease: string): Promise<boolean>;
  /** Number of keys under a prefix (count only). */
  countPrefix(prefix: string): Promise<number>;
  /** Stops etcd (SIGTERM, then wait) and removes its data directory. */
  stop(): Promise<ExitInfo>;
}

/** The installed etcd's version, or null if there is none. */
export function etcdVersion(binary = process.env.BENCH_ETCD_BIN ?? "etcd"): string | null {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) return null;
  return /etcd Version:\s*(\S+)/.exec(result.stdout)?.[1] ?? "unknown";
}

/** Smallest string above every key with this prefix (etcd's range_end for a prefix scan). */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]!++;
      return bytes.subarray(0, i + 1).toString("base64");
    }
  }
  return Buffer.from([0]).toString("base64");
}

export async function startEtcd(): Promise<EtcdServer> {
  const binary = process.env.BENCH_ETCD_BIN ?? "etcd";
  const version = etcdVersion(binary);
  if (!version) throw new Error(`etcd not found (${binary}); install it with: apt-get install -y etcd-server`);
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(join(process.env.BENCH_ETCD_DIR ?? tmpdir(), "brigade-bench-etcd-"));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  // Registered first, so it runs after the process is stopped (cleanups run newest first).
  const forgetRemove = onCleanup(async () => removeDir());
  let server: ServerProcess;
  try {
    server = await ServerProcess.start({
      name: "etcd",
      entry: {
        command: binary,
        args: [
          "--name",
          "bench",
          "--data-dir",
          dataDir,
          "--listen-client-urls",
          url,
          "--advertise-client-urls",
          url,
          "--listen-peer-urls",
          peer,
          "--initial-advertise-peer-urls",
          peer,
          "--initial-cluster",
          `bench=${peer}`,
          "--initial-cluster-state",
          "new",
          "--logger",
          "zap",
          "--log-level",
          "warn",
          "--log-outputs",
          "stderr",
        ],
      },
      // The environment may carry ETCD_* settings for another etcd; the flags above must win.
      env: {},
      readyUrl: `${url}/health`,
      readyTimeoutMs: 30_000,
    });
  } catch (err) {
    forgetRemove();
    removeDir();
    throw err;
  }

  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  const putIfAbsentBody = (key: string, value: string, lease: string) =>
    JSON.stringify({
      compare: [{ key: b64(key), target: "CREATE", result: "EQUAL", create_revision: "0" }],
      success: [{ request_put: { key: b64(key), value: b64(value), lease } }],
    });

  return {
    url,
    version,
    dataDir,
    process: server,
    async grantLease(ttlSeconds) {
      const reply = await post("/v3/lease/grant", { TTL: String(ttlSeconds) });
      if (typeof reply.ID !== "string" && typeof reply.ID !== "number")
        throw new Error(`etcd lease grant: no ID in ${JSON.stringify(reply).slice(0, 300)}`);
      return String(reply.ID);
    },
    putIfAbsentBody,
    async putIfAbsent(key, value, lease) {
      const reply = await post("/v3/kv/txn", putIfAbsentBody(key, value, lease));
      return reply.succeeded === true;
    },
    async countPrefix(prefix) {
      const reply = await post("/v3/kv/range", { key: b64(prefix), range_end: prefixEnd(prefix), count_only: true });
      return Number(reply.count ?? 0);
    },
    async stop() {
      const exit = await server.stop();
      forgetRemove();
      removeDir();
      return exit;
    },
  };
}
