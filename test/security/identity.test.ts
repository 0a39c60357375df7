import t from "tap";
import { client, createUser, startTestApp } from "../helpers/app.js";

t.test("operator rights belong to the operator, and only while an admin", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const operatorId = (await root.get("/v1/me")).body.user.id as string;
  const admin = await createUser(app, rootToken, "admin");

  t.test("when an organisation admin mints a token for the operator, then 403 and no token", async (t) => {
    const res = await admin.api.post("/v1/tokens", { name: "steal", userId: operatorId });
    t.equal(res.status, 403);
    t.equal(res.body.code, "auth.forbidden");
    t.notOk(res.body.token);
  });

  t.test("when the operator mints a token for itself, then it carries operator rights", async (t) => {
    const res = await root.post("/v1/tokens", { name: "own" });
    t.equal(res.status, 201);
    const created = await client(app, res.body.token).post("/v1/orgs", { slug: "by-operator", name: "x", admin: { name: "x" } });
    t.equal(created.status, 201);
  });

  t.test("when the operator is demoted, then it can no longer create organisations; promoted again, it can", async (t) => {
    const own = (await root.post("/v1/tokens", { name: "own" })).body.token as string;
    const operator = client(app, own);
    t.equal((await admin.api.patch(`/v1/users/${operatorId}`, { role: "member" })).status, 200);
    const refused = await operator.post("/v1/orgs", { slug: "after-demotion", name: "x", admin: { name: "x" } });
    t.equal(refused.status, 403);
    t.equal(refused.body.code, "auth.forbidden");
    const viaRoot = await root.post("/v1/orgs", { slug: "after-demotion-root", name: "x", admin: { name: "x" } });
    t.equal(viaRoot.status, 403, "the development root credential follows the operator's role too");
    t.equal((await admin.api.patch(`/v1/users/${operatorId}`, { role: "admin" })).status, 200);
    const allowed = await operator.post("/v1/orgs", { slug: "after-promotion", name: "x", admin: { name: "x" } });
    t.equal(allowed.status, 201);
  });
});
