import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

t.test("users", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const member = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");

  t.test("when an admin creates a user, then 201 and a user.created event", async (t) => {
    const res = await root.post("/v1/users", { name: "dana", displayName: "Dana", email: "dana@example.com", role: "lead" });
    t.equal(res.status, 201);
    t.match(res.body, { name: "dana", displayName: "Dana", email: "dana@example.com", role: "lead", isOperator: false });
    const events = await root.get("/v1/events?type=user.created");
    t.ok(events.body.items.some((e: any) => e.subject.id === res.body.id && e.payload.name === "dana"));
  });
  t.test("when the name is taken, then 409 users.already_exists", async (t) => {
    const res = await root.post("/v1/users", { name: "dana" });
    t.equal(res.status, 409);
    t.equal(res.body.code, "users.already_exists");
  });
  t.test("when the name is not a handle or the role unknown, then 400 naming the field", async (t) => {
    const res = await root.post("/v1/users", { name: "Not Valid", role: "king" });
    t.equal(res.status, 400);
    t.same(res.body.errors.map((e: any) => e.field).sort(), ["name", "role"]);
  });
  t.test("when a lead or member creates a user, then 403", async (t) => {
    for (const who of [member, lead]) {
      const res = await who.api.post("/v1/users", { name: `x-${who.name}` });
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.forbidden");
    }
  });
  t.test("when there is no token, then 401", async (t) => {
    t.equal((await client(app).post("/v1/users", { name: "x" })).status, 401);
    t.equal((await client(app).get("/v1/users")).status, 401);
  });
  t.test("when anyone in the organisation lists or gets users, then they see them", async (t) => {
    const list = await member.api.get("/v1/users");
    t.equal(list.status, 200);
    t.ok(list.body.items.some((u: any) => u.id === lead.id));
    const one = await member.api.get(`/v1/users/${lead.id}`);
    t.match(one.body, { id: lead.id, role: "lead" });
    t.equal((await member.api.get("/v1/users/00000000-0000-7000-8000-000000000000")).status, 404);
  });
  t.test("when an admin changes a role, then it takes effect on the next request", async (t) => {
    const res = await root.patch(`/v1/users/${member.id}`, { role: "lead" });
    t.equal(res.status, 200);
    t.equal(res.body.role, "lead");
    t.equal((await member.api.get("/v1/me")).body.user.role, "lead");
    t.equal((await member.api.post("/v1/teams", { name: "promoted" })).status, 201, "the new role's rights apply at once");
    await root.patch(`/v1/users/${member.id}`, { role: "member" });
  });
  t.test("when the last admin would be demoted, then 409 users.last_admin", async (t) => {
    const me = await root.get("/v1/me");
    const res = await root.patch(`/v1/users/${me.body.user.id}`, { role: "member" });
    t.equal(res.status, 409);
    t.equal(res.body.code, "users.last_admin");
  });
  t.test("when a member changes a role, then 403", async (t) => {
    t.equal((await member.api.patch(`/v1/users/${member.id}`, { role: "admin" })).status, 403);
  });
  t.test("when another organisation's admin changes our user, then 404", async (t) => {
    const other = await createOrg(app, rootToken);
    t.equal((await other.api.patch(`/v1/users/${member.id}`, { role: "admin" })).status, 404);
  });
});

t.test("teams and memberships", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const lead = await createUser(app, rootToken, "lead");
  const member = await createUser(app, rootToken, "member");
  let teamId = "";

  t.test("when a lead creates a team, then 201 with no members", async (t) => {
    const res = await lead.api.post("/v1/teams", { name: "payments", description: "Money in, money out" });
    t.equal(res.status, 201);
    t.match(res.body, { name: "payments", description: "Money in, money out", members: [] });
    teamId = res.body.id;
  });
  t.test("when a member creates a team, then 403", async (t) => {
    t.equal((await member.api.post("/v1/teams", { name: "rogue" })).status, 403);
  });
  t.test("when the name is taken, then 409 teams.already_exists", async (t) => {
    t.equal((await lead.api.post("/v1/teams", { name: "payments" })).body.code, "teams.already_exists");
  });
  t.test("when a lead adds a member, then the team lists them, idempotently", async (t) => {
    const res = await lead.api.put(`/v1/teams/${teamId}/members/${member.id}`);
    t.equal(res.status, 200);
    t.same(res.body.members, [member.id]);
    t.same((await lead.api.put(`/v1/teams/${teamId}/members/${member.id}`)).body.members, [member.id]);
    t.same((await member.api.get("/v1/me")).body.teams, [teamId]);
    const events = await lead.api.get("/v1/events?type=team.member_added");
    t.equal(events.body.items.length, 1, "one event for one change");
  });
  t.test("when sessions are listed by team, then only its members' sessions appear", async (t) => {
    const inTeam = await startSession(member.api);
    await startSession(lead.api);
    const res = await lead.api.get(`/v1/sessions?team=${teamId}`);
    t.same(
      res.body.items.map((s: any) => s.id),
      [inTeam.id],
    );
  });
  t.test("when a member changes memberships, then 403", async (t) => {
    t.equal((await member.api.delete(`/v1/teams/${teamId}/members/${member.id}`)).status, 403);
  });
  t.test("when the team or user does not exist, then 404", async (t) => {
    const nobody = "00000000-0000-7000-8000-000000000000";
    t.equal((await lead.api.put(`/v1/teams/${nobody}/members/${member.id}`)).body.code, "teams.not_found");
    t.equal((await lead.api.put(`/v1/teams/${teamId}/members/${nobody}`)).body.code, "users.not_found");
    t.equal((await lead.api.get(`/v1/teams/${nobody}`)).status, 404);
  });
  t.test("when a lead removes a member, then the team no longer lists them", async (t) => {
    const res = await lead.api.delete(`/v1/teams/${teamId}/members/${member.id}`);
    t.same(res.body.members, []);
    t.same((await member.api.get(`/v1/teams/${teamId}`)).body.members, []);
  });
  t.test("when another organisation reads or changes the team, then 404", async (t) => {
    const other = await createOrg(app, rootToken);
    t.equal((await other.api.get(`/v1/teams/${teamId}`)).status, 404);
    t.equal((await other.api.put(`/v1/teams/${teamId}/members/${other.adminId}`)).status, 404);
    t.same((await other.api.get("/v1/teams")).body.items, []);
  });
});

t.test("personal tokens", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");

  t.test("when a user mints a token, then it works and is listed without its secret", async (t) => {
    const res = await alice.api.post("/v1/tokens", { name: "laptop", ttlSeconds: 3600 });
    t.equal(res.status, 201);
    t.match(res.body, { name: "laptop", kind: "personal", userId: alice.id, revokedAt: null });
    t.ok(Math.abs(Date.parse(res.body.expiresAt) - Date.now() - 3_600_000) < 60_000, "expires in an hour");
    t.equal((await client(app, res.body.token).get("/v1/me")).body.user.id, alice.id);
    const list = await alice.api.get("/v1/tokens");
    t.ok(list.body.items.some((x: any) => x.id === res.body.id));
    t.notOk(
      list.body.items.some((x: any) => "token" in x),
      "secrets are not listed",
    );
  });
  t.test("when the TTL is out of bounds, then 422 tokens.ttl_out_of_bounds naming ttlSeconds", async (t) => {
    const res = await alice.api.post("/v1/tokens", { name: "x", ttlSeconds: 10 });
    t.equal(res.status, 422);
    t.equal(res.body.code, "tokens.ttl_out_of_bounds");
    t.equal(res.body.errors[0].field, "ttlSeconds");
  });
  t.test("when a member mints or lists for someone else, then 403", async (t) => {
    t.equal((await alice.api.post("/v1/tokens", { name: "x", userId: bob.id })).status, 403);
    t.equal((await alice.api.get(`/v1/tokens?userId=${bob.id}`)).status, 403);
  });
  t.test("when a member revokes someone else's token, then 404 (nothing leaks)", async (t) => {
    const res = await alice.api.delete(`/v1/tokens/${bob.tokenId}`);
    t.equal(res.status, 404);
    t.equal((await bob.api.get("/v1/me")).status, 200);
  });
  t.test("when an admin revokes a user's token, then a token.revoked event is written once", async (t) => {
    const res = await client(app, rootToken).delete(`/v1/tokens/${bob.tokenId}`);
    t.equal(res.status, 200);
    t.equal((await client(app, rootToken).delete(`/v1/tokens/${bob.tokenId}`)).status, 200, "revoking twice is harmless");
    const events = await client(app, rootToken).get("/v1/events?type=token.revoked");
    t.equal(events.body.items.filter((e: any) => e.subject.id === bob.tokenId).length, 1);
    const listed = await client(app, rootToken).get(`/v1/tokens?userId=${bob.id}&includeRevoked=true`);
    t.ok(listed.body.items.find((x: any) => x.id === bob.tokenId).revokedAt);
  });
});
