import { generateKeyPairSync } from "node:crypto";
import Fastify from "fastify";
import { exportJWK, generateKeyPair, importPKCS8, SignJWT } from "jose";
import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

t.test("bearer tokens are verified, scoped and revocable", async (t) => {
  const signing = generateKeyPairSync("ed25519");
  const pem = signing.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const { app, rootToken } = await startTestApp(t, { BRIGADE_SIGNING_KEY: pem });
  const alice = await createUser(app, rootToken, "member");
  const serverKey = await importPKCS8(pem, "EdDSA");
  const me = (token?: string) => client(app, token).get("/v1/me");

  t.test("when no token is sent, then 401 auth.missing_token with a challenge", async (t) => {
    const res = await me();
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.missing_token");
    t.match(res.headers["www-authenticate"], /^Bearer/);
  });

  t.test("when the header is not a bearer token, then 401", async (t) => {
    const res = await client(app).get("/v1/me", { authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" });
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.missing_token");
  });

  t.test("when the token is garbage, then 401 auth.invalid_token", async (t) => {
    const res = await me("not.a.jwt");
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.invalid_token");
  });

  t.test("when a token is signed by another key, then 401 and nothing leaks", async (t) => {
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT({ org: "x", kind: "personal" })
      .setProtectedHeader({ alg: "EdDSA", kid: "someone-else" })
      .setSubject(alice.id)
      .setJti(alice.tokenId)
      .setIssuer("brigade")
      .setExpirationTime("1h")
      .sign(privateKey);
    const res = await me(forged);
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.invalid_token");
    t.notMatch(JSON.stringify(res.body), new RegExp(alice.id));
  });

  t.test("when a token was validly signed but has expired, then 401 auth.token_expired", async (t) => {
    const jwks = (await client(app).get("/.well-known/jwks.json")).body;
    const expired = await new SignJWT({ org: "x", kind: "personal" })
      .setProtectedHeader({ alg: "EdDSA", kid: jwks.keys[0].kid })
      .setSubject(alice.id)
      .setJti(alice.tokenId)
      .setIssuer("brigade")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(serverKey);
    const res = await me(expired);
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.token_expired");
  });

  t.test("when a validly signed token names no token Brigade issued, then 401", async (t) => {
    const jwks = (await client(app).get("/.well-known/jwks.json")).body;
    const minted = await new SignJWT({ org: "x", kind: "personal" })
      .setProtectedHeader({ alg: "EdDSA", kid: jwks.keys[0].kid })
      .setSubject(alice.id)
      .setJti("00000000-0000-7000-8000-000000000000")
      .setIssuer("brigade")
      .setExpirationTime("1h")
      .sign(serverKey);
    const res = await me(minted);
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.invalid_token");
  });

  t.test("when a token is revoked, then it stops working at once", async (t) => {
    const bob = await createUser(app, rootToken, "member");
    t.equal((await me(bob.token)).status, 200);
    const revoked = await bob.api.delete(`/v1/tokens/${bob.tokenId}`);
    t.equal(revoked.status, 200);
    t.ok(revoked.body.revokedAt);
    const res = await me(bob.token);
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.token_revoked");
  });

  t.test("when the bootstrap token is used, then it acts as the default organisation's admin", async (t) => {
    const res = await me(rootToken);
    t.equal(res.status, 200);
    t.match(res.body, { via: "bootstrap", user: { name: "admin", role: "admin", isOperator: true }, org: { slug: "default" } });
    t.equal((await me(`${rootToken}x`)).status, 401, "a near miss is not accepted");
  });

  t.test("when the JWKS is fetched, then it holds only public key material", async (t) => {
    const res = await client(app).get("/.well-known/jwks.json");
    t.equal(res.status, 200);
    t.equal(res.body.keys.length, 1);
    t.match(res.body.keys[0], { kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    t.notOk("d" in res.body.keys[0], "no private part");
  });

  t.test("when keys come from configuration, then rotation is refused", async (t) => {
    const res = await client(app, rootToken).post("/v1/admin/signing-keys/rotate");
    t.equal(res.status, 409);
    t.equal(res.body.code, "keys.not_rotatable");
  });
});

t.test("signing keys kept by the server rotate without breaking issued tokens", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const before = await createUser(app, rootToken, "admin");
  const kids = async () => (await client(app).get("/.well-known/jwks.json")).body.keys.map((k: { kid: string }) => k.kid);
  const [oldKid] = await kids();

  t.test("when a non-operator admin rotates, then 403", async (t) => {
    const res = await before.api.post("/v1/admin/signing-keys/rotate");
    t.equal(res.status, 403);
    t.equal(res.body.code, "auth.forbidden");
  });

  t.test("when the operator rotates, then new tokens use the new key and old ones still verify", async (t) => {
    const res = await client(app, rootToken).post("/v1/admin/signing-keys/rotate");
    t.equal(res.status, 200);
    t.not(res.body.kid, oldKid);
    t.same(res.body.retired, [oldKid]);
    t.same((await kids()).sort(), [oldKid, res.body.kid].sort(), "both keys are published");
    t.equal((await before.api.get("/v1/me")).status, 200, "a token signed before rotation still works");
    const after = await createUser(app, rootToken, "member");
    const header = JSON.parse(Buffer.from(after.token.split(".")[0]!, "base64url").toString());
    t.equal(header.kid, res.body.kid);
    t.equal((await after.api.get("/v1/me")).status, 200);
  });
});

t.test("session tokens act only for their own session", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const mine = await startSession(alice.api);
  const other = await startSession(alice.api);
  const asSession = client(app, mine.token);

  t.test("when it heartbeats its own session, then 200", async (t) => {
    t.equal((await asSession.post(`/v1/sessions/${mine.id}/heartbeat`)).status, 200);
  });
  t.test("when it heartbeats or ends another session of the same user, then 403 auth.outside_session", async (t) => {
    for (const res of [await asSession.post(`/v1/sessions/${other.id}/heartbeat`), await asSession.delete(`/v1/sessions/${other.id}`)]) {
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.outside_session");
    }
  });
  t.test("when it tries user-level actions, then 403 auth.session_token_not_allowed", async (t) => {
    const attempts = [
      await asSession.post("/v1/sessions", { agent: { name: "x" }, repo: "github.com/a/b" }),
      await asSession.post("/v1/tokens", { name: "escalate" }),
      await asSession.get("/v1/tokens"),
      await asSession.post("/v1/teams", { name: "t" }),
    ];
    for (const res of attempts) {
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.session_token_not_allowed");
    }
  });
  t.test("when it asks who it is, then it names its session", async (t) => {
    const res = await asSession.get("/v1/me");
    t.match(res.body, { via: "session", sessionId: mine.id, user: { id: alice.id } });
  });
  t.test("when its session ends, then the token is revoked", async (t) => {
    t.equal((await asSession.delete(`/v1/sessions/${mine.id}`)).status, 200);
    const res = await asSession.get("/v1/me");
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.token_revoked");
  });
});

t.test("tokens of an external OIDC issuer are accepted through its JWKS", async (t) => {
  const idp = await generateKeyPair("EdDSA");
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: "idp-1", alg: "EdDSA" };
  const issuerApp = Fastify();
  let issuer = "";
  issuerApp.get("/.well-known/openid-configuration", async () => ({ issuer, jwks_uri: `${issuer}/jwks` }));
  issuerApp.get("/jwks", async () => ({ keys: [jwk] }));
  issuer = (await issuerApp.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  t.teardown(() => issuerApp.close());

  const { app, rootToken } = await startTestApp(t, { OIDC_ISSUER: issuer, OIDC_AUDIENCE: "brigade" });
  const idToken = (claims: Record<string, unknown>, audience = "brigade", key = idp.privateKey) =>
    new SignJWT({ email_verified: true, ...claims })
      .setProtectedHeader({ alg: "EdDSA", kid: "idp-1" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject("u1")
      .setExpirationTime("5m")
      .sign(key);

  t.test("when a new user signs in, then they are provisioned as a member", async (t) => {
    const res = await client(app, await idToken({ email: "Carol@Example.com" })).get("/v1/me");
    t.equal(res.status, 200);
    t.match(res.body, { via: "oidc", user: { email: "carol@example.com", role: "member" }, org: { slug: "default" } });
    const again = await client(app, await idToken({ email: "carol@example.com" })).get("/v1/me");
    t.equal(again.body.user.id, res.body.user.id, "the same user next time");
    const users = await client(app, rootToken).get("/v1/users");
    t.equal(users.body.items.filter((u: { email: string }) => u.email === "carol@example.com").length, 1);
  });
  t.test("when the audience is wrong, then 401", async (t) => {
    const res = await client(app, await idToken({ email: "carol@example.com" }, "someone-else")).get("/v1/me");
    t.equal(res.status, 401);
  });
  t.test("when the token is signed by another key, then 401", async (t) => {
    const stranger = await generateKeyPair("EdDSA");
    const res = await client(app, await idToken({ email: "carol@example.com" }, "brigade", stranger.privateKey)).get("/v1/me");
    t.equal(res.status, 401);
    t.equal(res.body.code, "auth.invalid_token");
  });
  t.test("when the token has no e-mail, then 401", async (t) => {
    const res = await client(app, await idToken({})).get("/v1/me");
    t.equal(res.status, 401);
  });
  t.test("when the e-mail is not verified, then 401 and no user is provisioned", async (t) => {
    for (const claims of [{ email_verified: false }, { email_verified: "true" }, { email_verified: undefined }]) {
      const res = await client(app, await idToken({ email: "mallory@example.com", ...claims })).get("/v1/me");
      t.equal(res.status, 401, JSON.stringify(claims));
      t.equal(res.body.code, "auth.invalid_token");
    }
    const users = await client(app, rootToken).get("/v1/users");
    t.notOk(users.body.items.some((u: { email: string }) => u.email === "mallory@example.com"));
  });
  t.test("when the token has no audience, then 401", async (t) => {
    const noAudience = await new SignJWT({ email: "carol@example.com", email_verified: true })
      .setProtectedHeader({ alg: "EdDSA", kid: "idp-1" })
      .setIssuer(issuer)
      .setSubject("u1")
      .setExpirationTime("5m")
      .sign(idp.privateKey);
    t.equal((await client(app, noAudience).get("/v1/me")).status, 401);
  });
});

t.test("organisations are isolated from each other", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const other = await createOrg(app, rootToken);
  const alice = await createUser(app, rootToken, "member");
  const session = await startSession(alice.api);

  t.test("when another organisation's admin reads our objects, then 404", async (t) => {
    for (const url of [`/v1/sessions/${session.id}`, `/v1/users/${alice.id}`]) {
      const res = await other.api.get(url);
      t.equal(res.status, 404, url);
    }
    t.equal((await other.api.delete(`/v1/tokens/${alice.tokenId}`)).status, 404);
    t.equal((await other.api.post(`/v1/sessions/${session.id}/heartbeat`)).status, 404);
    t.equal((await other.api.delete(`/v1/sessions/${session.id}`)).status, 404);
  });
  t.test("when another organisation lists, then it sees only its own", async (t) => {
    const sessions = await other.api.get("/v1/sessions");
    t.same(sessions.body.items, []);
    const users = await other.api.get("/v1/users");
    t.same(
      users.body.items.map((u: { name: string }) => u.name),
      ["boss"],
    );
    const events = await other.api.get("/v1/events");
    t.notOk(events.body.items.some((e: { subject: { id: string } }) => e.subject.id === session.id));
  });
  t.test("when the operator creates an organisation, then its log names the operator as the actor", async (t) => {
    const operator = (await client(app, rootToken).get("/v1/me")).body.user.id;
    const created = await other.api.get("/v1/events?type=org.created");
    t.match(created.body.items, [{ actor: { type: "user", id: operator }, subject: { id: other.orgId } }]);
  });
  t.test("when a non-operator creates an organisation, then 403", async (t) => {
    const res = await other.api.post("/v1/orgs", { slug: "sneaky", name: "x", admin: { name: "x" } });
    t.equal(res.status, 403);
  });
  t.test("when the slug is taken, then 409 orgs.already_exists", async (t) => {
    const res = await client(app, rootToken).post("/v1/orgs", { slug: "default", name: "x", admin: { name: "x" } });
    t.equal(res.status, 409);
    t.equal(res.body.code, "orgs.already_exists");
  });
});
