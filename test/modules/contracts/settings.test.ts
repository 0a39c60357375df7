import { randomBytes } from "node:crypto";
import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";
import { ordersApi } from "./fixtures/orders.js";

/**
 * A contract's settings that change how its changes are judged: `dangerous` (allow, the
 * default, or block) and, for Protocol Buffers contracts, buf's category (`protobufCategory`),
 * with a protobuf contract published, checked and diffed through the API.
 */

/** An OpenAPI document whose GET /orders response has a `status` enum: adding a value is dangerous. */
const orders = (statuses: string[]) => ordersApi([], statuses);

const proto = (body: string) => `syntax = "proto3";\npackage shop.v1;\n${body}\n`;

t.test("contract settings", async (t) => {
  const built = await startTestApp(t, { NATS_SUBJECT_PREFIX: `settings${process.pid}x${randomBytes(3).toString("hex")}` });
  const { app, rootToken } = built;
  const root = client(app, rootToken);
  const alice = await createUser(app, rootToken, "member"); // provider team
  const bob = await createUser(app, rootToken, "member"); // in no team
  const providers = (await root.post("/v1/teams", { name: `orders-${randomBytes(2).toString("hex")}` })).body.id as string;
  await root.put(`/v1/teams/${providers}/members/${alice.id}`);
  const create = (api: Client, body: Record<string, unknown>) => api.post("/v1/contracts", { providerTeamId: providers, ...body });

  t.test("when created without settings, then dangerous changes are allowed with a notice", async (t) => {
    const res = await create(alice.api, { name: "orders-default", kind: "openapi" });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.match(res.body, { dangerous: "allow", protobufCategory: null });
    t.equal((await alice.api.post("/v1/contracts/orders-default/versions", { label: "1", content: orders(["open"]) })).status, 201);
    const check = await alice.api.post("/v1/contracts/orders-default/check", { content: orders(["open", "held"]) });
    t.equal(check.status, 200);
    t.match(check.body, { outcome: "compatible", compatible: true, dangerous: "allow", breaking: [] });
    t.equal(check.body.summary.dangerous, 1, "the enum value a response may now send is counted as dangerous");
    const published = await alice.api.post("/v1/contracts/orders-default/versions", { label: "2", content: orders(["open", "held"]) });
    t.equal(published.status, 201);
    t.match(published.body, { forced: false, compatibility: { compatible: true, dangerous: "allow" } });
  });

  t.test("when dangerous is block, then a dangerous change makes the version incompatible", async (t) => {
    const res = await create(alice.api, { name: "orders-strict", kind: "openapi", dangerous: "block" });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.equal(res.body.dangerous, "block");
    t.equal((await alice.api.get("/v1/contracts/orders-strict")).body.dangerous, "block", "GET shows it");
    t.equal((await alice.api.post("/v1/contracts/orders-strict/versions", { label: "1", content: orders(["open"]) })).status, 201);

    const check = await alice.api.post("/v1/contracts/orders-strict/check", { content: orders(["open", "held"]) });
    t.equal(check.status, 200);
    t.match(check.body, { outcome: "incompatible", compatible: false, dangerous: "block" });
    t.equal(check.body.breaking.length, 1);
    t.match(check.body.breaking[0], { level: "dangerous", against: "1", direction: "backward", location: /status/ });

    const refused = await alice.api.post("/v1/contracts/orders-strict/versions", { label: "2", content: orders(["open", "held"]) });
    t.equal(refused.status, 409);
    t.equal(refused.body.code, "contracts.incompatible");
    t.match(refused.body.detail, /dangerous: block/);

    const forced = await alice.api.post("/v1/contracts/orders-strict/versions", {
      label: "2",
      content: orders(["open", "held"]),
      force: true,
      reason: "the storefront shows unknown statuses as pending",
    });
    t.equal(forced.status, 201);
    t.match(forced.body, { forced: true, compatibility: { compatible: false, dangerous: "block" } });

    const compatible = await alice.api.post("/v1/contracts/orders-strict/check", { content: orders(["open"]) });
    t.equal(compatible.body.outcome, "compatible", "removing a value a response may send is not dangerous");
  });

  t.test("when dangerous is changed with PATCH, then the next check is judged by it and the change is recorded", async (t) => {
    const patched = await alice.api.patch("/v1/contracts/orders-default", { dangerous: "block" });
    t.equal(patched.status, 200, JSON.stringify(patched.body));
    t.equal(patched.body.dangerous, "block");
    const check = await alice.api.post("/v1/contracts/orders-default/check", { content: orders(["open", "held", "lost"]) });
    t.equal(check.body.outcome, "incompatible");
    const back = await alice.api.patch("/v1/contracts/orders-default", { dangerous: "allow" });
    t.equal(back.body.dangerous, "allow");
    t.equal(
      (await alice.api.post("/v1/contracts/orders-default/check", { content: orders(["open", "held", "lost"]) })).body.outcome,
      "compatible",
    );
    const events = await root.get("/v1/events?type=contract.updated&order=desc&limit=50");
    t.ok(
      events.body.items.some(
        (e: { payload: { changed: Record<string, unknown> } }) =>
          JSON.stringify(e.payload.changed.dangerous) === JSON.stringify({ from: "allow", to: "block" }),
      ),
      "contract.updated says what changed",
    );
  });

  t.test("bad settings are 400 problems naming the field", async (t) => {
    const bad = await create(alice.api, { name: "bad-dangerous", kind: "openapi", dangerous: "warn" });
    t.equal(bad.status, 400);
    t.match(bad.headers["content-type"], /application\/problem\+json/);
    t.ok(
      bad.body.errors.some((e: { field: string }) => e.field === "dangerous"),
      JSON.stringify(bad.body),
    );
    const badPatch = await alice.api.patch("/v1/contracts/orders-default", { dangerous: true });
    t.equal(badPatch.status, 400);
    t.ok(badPatch.body.errors.some((e: { field: string }) => e.field === "dangerous"));
    const badCategory = await create(alice.api, { name: "bad-category", kind: "protobuf", protobufCategory: "WIRE_ONLY" });
    t.equal(badCategory.status, 400);
    t.ok(badCategory.body.errors.some((e: { field: string }) => e.field === "protobufCategory"));
    const notProto = await create(alice.api, { name: "not-proto", kind: "openapi", protobufCategory: "WIRE" });
    t.equal(notProto.status, 400);
    t.equal(notProto.body.code, "contracts.setting_not_applicable");
    t.same(notProto.body.errors, [{ field: "protobufCategory", reason: "not applicable to kind openapi" }]);
    const notProtoPatch = await alice.api.patch("/v1/contracts/orders-default", { protobufCategory: "FILE" });
    t.equal(notProtoPatch.status, 400);
    t.equal(notProtoPatch.body.code, "contracts.setting_not_applicable");
  });

  t.test("security: settings are changed only by the provider team, leads and admins, with a personal token", async (t) => {
    const anonymous = client(app);
    t.equal((await anonymous.patch("/v1/contracts/orders-strict", { dangerous: "allow" })).status, 401, "no token");
    const other = await createOrg(app, rootToken);
    t.equal((await other.api.patch("/v1/contracts/orders-strict", { dangerous: "allow" })).status, 404, "another organisation's token");
    const notProvider = await bob.api.patch("/v1/contracts/orders-strict", { dangerous: "allow" });
    t.equal(notProvider.status, 403, "a member outside the provider team");
    t.equal(notProvider.body.code, "contracts.not_provider");
    t.equal(
      (await create(bob.api, { name: "bob-strict", kind: "openapi", dangerous: "block" })).status,
      403,
      "creating for a team one is not in",
    );
    const session = await startSession(alice.api, { repo: "github.com/acme/shop" });
    const fromSession = await client(app, session.token).patch("/v1/contracts/orders-strict", { dangerous: "allow" });
    t.equal(fromSession.status, 403, "session tokens do not manage contracts");
    t.equal(fromSession.body.code, "auth.session_token_not_allowed");
    t.equal((await alice.api.get("/v1/contracts/orders-strict")).body.dangerous, "block", "nothing changed");
  });

  t.test("protobuf contracts", async (t) => {
    const created = await create(alice.api, { name: "shop-proto", kind: "protobuf" });
    t.equal(created.status, 201, JSON.stringify(created.body));
    t.match(created.body, { kind: "protobuf", protobufCategory: "FILE", dangerous: "allow" });

    const v1 = {
      "shop/v1/order.proto": proto(
        'import "shop/v1/money.proto";\nmessage Order {\n  string id = 1;\n  Money total = 2;\n  string note = 3;\n}',
      ),
      "shop/v1/money.proto": proto("message Money {\n  int64 units = 1;\n  string currency = 2;\n}"),
    };
    const first = await alice.api.post("/v1/contracts/shop-proto/versions", { label: "1.0.0", content: JSON.stringify(v1) });
    t.equal(first.status, 201, JSON.stringify(first.body));

    // Comments and layout only: the same version.
    const relaid = { ...v1, "shop/v1/money.proto": proto("// Money.\nmessage Money { int64 units = 1; string currency = 2; }") };
    const same = await alice.api.post("/v1/contracts/shop-proto/versions", { label: "1.0.1", content: JSON.stringify(relaid) });
    t.equal(same.status, 200, "the same declarations in another layout are the same version");
    t.equal(same.body.label, "1.0.0");

    // Field 3 deleted with its number reserved: breaking under FILE, not under WIRE.
    const v2 = {
      ...v1,
      "shop/v1/order.proto": proto(
        'import "shop/v1/money.proto";\nmessage Order {\n  string id = 1;\n  Money total = 2;\n  reserved 3;\n}',
      ),
    };
    const check = await alice.api.post("/v1/contracts/shop-proto/check", { content: JSON.stringify(v2) });
    t.equal(check.status, 200);
    t.equal(check.body.outcome, "incompatible");
    t.equal(check.body.breaking.length, 1, JSON.stringify(check.body.breaking));
    t.match(check.body.breaking[0], { location: "shop.v1.Order.note", message: /FIELD_NO_DELETE/ });
    const refused = await alice.api.post("/v1/contracts/shop-proto/versions", { label: "2.0.0", content: JSON.stringify(v2) });
    t.equal(refused.status, 409);

    const wire = await alice.api.patch("/v1/contracts/shop-proto", { protobufCategory: "WIRE" });
    t.equal(wire.status, 200);
    t.equal(wire.body.protobufCategory, "WIRE");
    const published = await alice.api.post("/v1/contracts/shop-proto/versions", { label: "2.0.0", content: JSON.stringify(v2) });
    t.equal(published.status, 201, JSON.stringify(published.body));
    const note = published.body.changes.find((c: { location: string }) => c.location === "shop.v1.Order.note");
    t.match(note, { level: "non-breaking", message: /Not breaking under WIRE/ });
    t.equal(published.body.summary.breaking, 0);

    // A field number reused for another wire type breaks even under WIRE.
    const v3 = {
      ...v1,
      "shop/v1/order.proto": proto('import "shop/v1/money.proto";\nmessage Order { string id = 1; Money total = 2; int32 count = 3; }'),
    };
    const reused = await alice.api.post("/v1/contracts/shop-proto/check", { content: JSON.stringify(v3) });
    t.match(reused.body, { outcome: "incompatible" });
    t.ok(
      reused.body.breaking.some((b: { message: string }) => b.message.includes("reserves")),
      JSON.stringify(reused.body.breaking),
    );

    const diff = await alice.api.get("/v1/contracts/shop-proto/diff?from=1.0.0&to=2.0.0");
    t.equal(diff.status, 200);
    t.equal(diff.body.summary.breaking, 0, "diffs use the contract's category");
    t.ok(diff.body.changes.some((c: { location: string }) => c.location === "shop.v1.Order.note"));

    const single = await create(alice.api, { name: "single-proto", kind: "protobuf", protobufCategory: "WIRE_JSON" });
    t.equal(single.body.protobufCategory, "WIRE_JSON");
    t.equal(
      (await alice.api.post("/v1/contracts/single-proto/versions", { label: "1", content: proto("message A { string x = 1; }") })).status,
      201,
      "one .proto file as text",
    );
  });

  t.test("invalid protobuf content is a 422 naming what is wrong", async (t) => {
    const syntax = await alice.api.post("/v1/contracts/single-proto/check", { content: proto("message A { string x = ; }") });
    t.equal(syntax.status, 422);
    t.equal(syntax.body.code, "contracts.invalid_content");
    t.match(syntax.body, { location: { line: 3 } });
    const outside = await alice.api.post("/v1/contracts/single-proto/check", {
      content: proto('import "other/thing.proto";\nmessage A { string x = 1; }'),
    });
    t.equal(outside.status, 422);
    t.match(outside.body.detail, /not one of the contract's files/);
    const unresolved = await alice.api.post("/v1/contracts/single-proto/check", { content: proto("message A { Missing x = 1; }") });
    t.equal(unresolved.status, 422);
    const badPath = await alice.api.post("/v1/contracts/single-proto/check", { content: JSON.stringify({ "../a.proto": proto("") }) });
    t.equal(badPath.status, 422);
    t.match(badPath.body.detail, /not a relative \.proto path/);
    const yaml = await alice.api.post("/v1/contracts/single-proto/check", { content: "openapi: 3.0.3\ninfo: {}\n" });
    t.equal(yaml.status, 422);
    t.equal(yaml.body.code, "contracts.kind_mismatch");
  });
});
