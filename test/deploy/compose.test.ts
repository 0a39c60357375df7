import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import t from "tap";
import { parse } from "yaml";
import { loadConfig } from "../../src/config.js";
import { freePort } from "../helpers/own-services.js";
import { sleep } from "../helpers/wait.js";

/**
 * deploy/compose.yaml and its NATS operator-mode override: the override changes only services
 * the base has, mounts exactly the files its documented command generates where the generated
 * settings say, and nats-server runs the generated configuration with the override's arguments,
 * refusing anonymous clients and admitting Brigade's servers' user. (Docker itself is not run:
 * the images cannot be pulled here.)
 */

const deploy = join(import.meta.dirname, "../../deploy");
const base = parse(readFileSync(join(deploy, "compose.yaml"), "utf8"));
const overrideText = readFileSync(join(deploy, "compose.nats-operator.yaml"), "utf8");
const override = parse(overrideText);

t.test("the operator-mode override fits compose.yaml and the files its command generates", async (t) => {
  for (const name of Object.keys(override.services)) t.ok(base.services[name], `service ${name} exists in compose.yaml`);

  // The documented command, as written in the override's header (continuation lines joined).
  const header = overrideText
    .split("\n")
    .filter((l) => l.startsWith("#"))
    .map((l) => l.replace(/^#\s?/, ""))
    .join("\n")
    .replace(/\\\n\s*/g, "");
  const documented = /npx tsx scripts\/nats-operator\.ts (.+)/.exec(header)?.[1]?.trim().split(/\s+/);
  t.ok(documented, "the override documents how to generate the keys");
  const [folderArg, ...flags] = documented!;
  t.equal(folderArg, "deploy/nats-operator", "into the folder the override mounts from");

  const scratch = mkdtempSync(join(tmpdir(), "brigade-compose-"));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const folder = join(scratch, "nats-operator");
  const generate = spawnSync(
    process.execPath,
    ["--import=tsx", join(import.meta.dirname, "../../scripts/nats-operator.ts"), folder, ...flags],
    { encoding: "utf8" },
  );
  t.equal(generate.status, 0, generate.stderr);

  // Every mount's host file is generated (paths relative to deploy/, as Compose reads them).
  const mounts = new Map<string, string>();
  for (const service of Object.values<any>(override.services))
    for (const v of service.volumes ?? []) {
      const [host, target] = String(v).split(":");
      t.match(host, /^\.\/nats-operator\//, `${host} comes from the generated folder`);
      const file = join(scratch, host!.replace(/^\.\//, ""));
      t.equal(statSync(file).mode & 0o777, 0o600, `${host} exists and is owner-only`);
      mounts.set(target!, file);
    }

  // Brigade's settings: the env file is accepted and names the mounted creds file.
  const envFiles: string[] = override.services.brigade.env_file;
  t.same(envFiles, ["./nats-operator/brigade.env"]);
  const env = Object.fromEntries(
    readFileSync(join(folder, "brigade.env"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  t.ok(mounts.has(env.NATS_CREDS_FILE!), `NATS_CREDS_FILE (${env.NATS_CREDS_FILE}) is mounted into the container`);
  // Compose's interpolation: the defaults as written, the required value given.
  const interpolated = Object.fromEntries(
    Object.entries<string>(base.services.brigade.environment).map(([k, v]) => [
      k,
      v.replace(/\$\{\w+:-([^}]*)\}/g, "$1").replace(/\$\{\w+:\?[^}]*\}/g, "x".repeat(24)),
    ]),
  );
  const config = loadConfig({ ...env, ...interpolated });
  t.equal(config.NATS_URL, "nats://nats:4222", "Brigade keeps the base's NATS_URL");
  t.equal(config.NATS_CLIENT_ACCOUNT, env.NATS_CLIENT_ACCOUNT, "and takes the generated settings");

  // NATS: the override's arguments on the generated configuration, with the ports moved to free
  // ones of this machine (flags after the file override it) and the store from /data to a scratch folder.
  const command: string[] = override.services.nats.command;
  const conf = mounts.get(command[command.indexOf("-c") + 1]!);
  t.ok(conf, "NATS starts from the mounted configuration");
  t.ok(command.includes("--http_port"), "with the monitoring port the base's healthcheck probes");
  const [port, monitor] = [await freePort(), await freePort()];
  const args = command.map((a) => (a === command[command.indexOf("-c") + 1] ? conf! : a === "8222" ? String(monitor) : a));
  const confText = readFileSync(conf!, "utf8");
  t.match(confText, /store_dir: "\/data"/, "JetStream keeps its store in /data");
  t.ok(
    (base.services.nats.volumes as string[]).some((v) => v.endsWith(":/data")),
    "which is the base's volume",
  );
  writeFileSync(conf!, confText.replace(/store_dir: "\/data"/, `store_dir: ${JSON.stringify(join(scratch, "js"))}`));
  const nats = spawn("nats-server", [...args, "-p", String(port), "-a", "127.0.0.1"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  t.teardown(() => nats.kill("SIGKILL"));
  let log = "";
  nats.stderr!.on("data", (d) => (log += d));
  for (let i = 0; i < 200 && !/Server is ready/.test(log); i++) await sleep(25);
  t.match(log, /Server is ready/, "nats-server starts on the generated configuration");
  const url = `nats://127.0.0.1:${port}`;
  const anonymous = await connect({ servers: url, maxReconnectAttempts: 0 }).then(
    async (nc) => {
      await nc.close();
      return null;
    },
    (err: Error) => err,
  );
  t.match(String(anonymous), /[Aa]uthoriz/, "an anonymous client is refused");
  const creds = readFileSync(mounts.get(env.NATS_CREDS_FILE!)!);
  const server = await connect({ servers: url, authenticator: credsAuthenticator(creds), maxReconnectAttempts: 0 });
  t.teardown(() => server.close());
  await server.flush();
  t.pass("Brigade's servers' user connects");
  const monitorOk = await fetch(`http://127.0.0.1:${monitor}/healthz`).then((r) => r.status);
  t.equal(monitorOk, 200, "the healthcheck's /healthz answers");
});
