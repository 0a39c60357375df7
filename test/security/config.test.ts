import t from "tap";
import { type ConfigError, loadConfig } from "../../src/config.js";

t.test("when OIDC_ISSUER is set without OIDC_AUDIENCE, then the config is rejected naming the audience", async (t) => {
  const err = t.throws(() => loadConfig({ OIDC_ISSUER: "https://idp.example.com" })) as ConfigError;
  t.match(err.message, /OIDC_AUDIENCE: is required with OIDC_ISSUER/);
  t.equal(loadConfig({ OIDC_ISSUER: "https://idp.example.com", OIDC_AUDIENCE: "brigade" }).OIDC_AUDIENCE, "brigade");
});

t.test("when NATS credentials are set inconsistently, then the config names each problem", async (t) => {
  const err = t.throws(() =>
    loadConfig({ NATS_USER: "u", NATS_TOKEN: "t", NATS_TLS_CERT_FILE: "/c.pem", NATS_CLIENT_SIGNING_KEY: "SAXYZ", NATS_NKEY_SEED: "nope" }),
  ) as ConfigError;
  t.match(err.message, /NATS_USER: set at most one of/);
  t.match(err.message, /NATS_PASSWORD: NATS_USER and NATS_PASSWORD go together/);
  t.match(err.message, /NATS_TLS_KEY_FILE: NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together/);
  t.match(err.message, /NATS_CLIENT_ACCOUNT: NATS_CLIENT_SIGNING_KEY and NATS_CLIENT_ACCOUNT go together/);
  t.match(err.message, /NATS_NKEY_SEED: must be an NKey user seed/);
  t.equal(loadConfig({ NATS_USER: "u", NATS_PASSWORD: "p" }).NATS_CLIENT_CREDENTIALS_TTL_SECONDS, 3600);
});
