import t from "tap";
import { type ConfigError, loadConfig } from "../../src/config.js";

t.test("when OIDC_ISSUER is set without OIDC_AUDIENCE, then the config is rejected naming the audience", async (t) => {
  const err = t.throws(() => loadConfig({ OIDC_ISSUER: "https://idp.example.com" })) as ConfigError;
  t.match(err.message, /OIDC_AUDIENCE: is required with OIDC_ISSUER/);
  t.equal(loadConfig({ OIDC_ISSUER: "https://idp.example.com", OIDC_AUDIENCE: "brigade" }).OIDC_AUDIENCE, "brigade");
});
