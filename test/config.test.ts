import { spawnSync } from "node:child_process";
import t from "tap";
import { ConfigError, loadConfig } from "../src/config.js";

t.test("when nothing is set, then the embedded defaults apply", async (t) => {
  const config = loadConfig({});
  t.equal(config.PORT, 8080);
  t.equal(config.DATABASE_URL, undefined);
  t.equal(config.NATS_URL, undefined);
  t.equal(config.BRIGADE_DATA_DIR, "./.brigade");
  t.equal(config.SESSION_TTL_DEFAULT_SECONDS, 300);
  t.equal(config.HEAP_GROWTH_PERCENT, 50);
});

t.test("when the heap growth is out of bounds, then the config names it", async (t) => {
  const err = t.throws(() => loadConfig({ HEAP_GROWTH_PERCENT: "500" })) as ConfigError;
  t.match(err.message, /HEAP_GROWTH_PERCENT/);
  t.equal(loadConfig({ HEAP_GROWTH_PERCENT: "0" }).HEAP_GROWTH_PERCENT, 0, "0 keeps V8's own policy");
});

t.test("when several keys are invalid, then one error lists every one of them", async (t) => {
  const err = t.throws(() =>
    loadConfig({ PORT: "99999", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", BRIGADE_BOOTSTRAP_TOKEN: "short" }),
  ) as ConfigError;
  t.type(err, ConfigError);
  const keys = err.problems.map((p) => p.split(":")[0]).sort();
  t.same(keys, ["BRIGADE_BOOTSTRAP_TOKEN", "DATABASE_URL", "LOG_LEVEL", "PORT"]);
  t.match(err.message, /DATABASE_URL: must be a postgres/);
});

t.test("when the TTL bounds contradict each other, then the config is rejected", async (t) => {
  const err = t.throws(() => loadConfig({ SESSION_TTL_MIN_SECONDS: "600", SESSION_TTL_MAX_SECONDS: "60" })) as ConfigError;
  t.match(err.message, /SESSION_TTL_MIN_SECONDS: must not exceed SESSION_TTL_MAX_SECONDS/);
});

t.test("when a key is empty, then it counts as unset", async (t) => {
  t.equal(loadConfig({ DATABASE_URL: "", PORT: "" }).PORT, 8080);
});

t.test("when the server starts with invalid settings, then it prints them all and exits non-zero", async (t) => {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: { PATH: process.env.PATH, PORT: "not-a-port", SESSION_TTL_MIN_SECONDS: "-5" },
    encoding: "utf8",
    timeout: 30_000,
  });
  t.equal(result.status, 2);
  t.match(result.stderr, /Invalid configuration/);
  t.match(result.stderr, /PORT/);
  t.match(result.stderr, /SESSION_TTL_MIN_SECONDS/);
  t.notMatch(result.stderr, /at .*\.ts:\d+/, "no stack trace");
});
