import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";
import { sleep, waitFor } from "../../helpers/wait.js";

const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8");
const shopRepo = "github.com/acme/shop";
const webRepo = "github.com/acme/web";

const ORDERS = ["1.0.0", "1.1.0", "1.1.1", "2.0.0", "3.0.0", "4.0.0", "5.0.0"].map((label) => ({
  label,
  content: fixture(`orders-api/v${label}.yaml`),
}));
const EVENTS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0"].map((label) => ({
  label,
  content: fixture(`order-event/v${label}.json`),
}));
const CATALOG = ["1.0.0", "1.1.0", "1.2.0", "1.2.1", "2.0.0", "3.0.0"].map((label) => ({
  label,
  content: fixture(`catalog-graphql/v${label}.graphql`),
}));

t.test("contracts", async (t) => {
  // Its own subject prefix, so a NATS shared with other test files never mixes their messages.
  const prefix = `contractstest${process.pid}x${randomBytes(3).toString("hex")}`;
  const built = await startTestApp(t, { NATS_SUBJECT_PREFIX: prefix, CONTRACT_MAX_BYTES: String(256 * 1024) });
  const { app, rootToken } = built;
  const root = client(app, rootToken);

  const team = async (name: string, members: { id: string }[]) => {
    const created = await root.post("/v1/teams", { name: `${name}-${randomBytes(2).toString("hex")}` });
    for (const m of members) await root.put(`/v1/teams/${created.body.id}/members/${m.id}`);
    return created.body.id as string;
  };
  const alice = await createUser(app, rootToken, "member"); // provider team (orders)
  const carol = await createUser(app, rootToken, "member"); // consumer team (storefront)
  const dave = await createUser(app, rootToken, "member"); // a consuming user
  const bob = await createUser(app, rootToken, "member"); // in no team
  const lead = await createUser(app, rootToken, "lead");
  const ordersTeam = await team("orders", [alice]);
  const storefront = await team("storefront", [carol]);
  const aliceSession = await startSession(alice.api, {
    repo: `git@github.com:Acme/shop.git`,
    agent: { name: "alice-claude", kind: "claude-code" },
  });
  const asAliceSession = client(app, aliceSession.token);

  const create = (api: Client, body: Record<string, unknown>) => api.post("/v1/contracts", body);
  const publish = (api: Client, name: string, body: Record<string, unknown>) => api.post(`/v1/contracts/${name}/versions`, body);

  t.test("when a provider member creates a contract, then 201 with its source, policy and no versions", async (t) => {
    const res = await create(alice.api, {
      name: "orders-api",
      kind: "openapi",
      description: "The orders service's HTTP API.",
      providerTeamId: ordersTeam,
      source: { repo: "git@github.com:Acme/shop.git", patterns: ["services/orders/openapi.yaml", "services/orders/src/http/**"] },
    });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.match(res.body, {
      name: "orders-api",
      kind: "openapi",
      providerTeamId: ordersTeam,
      compatibility: "backward",
      status: "active",
      source: { repo: shopRepo, patterns: ["services/orders/openapi.yaml", "services/orders/src/http/**"] },
      latestVersion: null,
      consumers: [],
    });
    const again = await create(alice.api, { name: "orders-api", kind: "openapi", providerTeamId: ordersTeam });
    t.equal(again.status, 409);
    t.equal(again.body.code, "contracts.name_taken");
  });

  t.test("when consumers are declared, then they are listed and declaring one twice returns it (200)", async (t) => {
    const byTeam = await carol.api.post("/v1/contracts/orders-api/consumers", { kind: "team", teamId: storefront });
    t.equal(byTeam.status, 201);
    t.match(byTeam.body, { kind: "team", teamId: storefront, userId: null });
    const twice = await carol.api.post("/v1/contracts/orders-api/consumers", { kind: "team", teamId: storefront });
    t.equal(twice.status, 200);
    t.equal(twice.body.id, byTeam.body.id);
    const byUser = await dave.api.post("/v1/contracts/orders-api/consumers", { kind: "user", userId: dave.id });
    t.equal(byUser.status, 201);
    const byRepo = await dave.api.post("/v1/contracts/orders-api/consumers", {
      kind: "repo",
      repo: "https://github.com/acme/web",
      patterns: ["src/api/orders/**", "src/api/client.ts"],
    });
    t.equal(byRepo.status, 201);
    t.match(byRepo.body, { kind: "repo", repo: webRepo, patterns: ["src/api/client.ts", "src/api/orders/**"] });
    const got = await bob.api.get("/v1/contracts/orders-api");
    t.equal(got.status, 200);
    t.equal(got.body.consumers.length, 3);
  });

  t.test("orders-api evolving through seven versions (OpenAPI, backward)", async (t) => {
    const at = (label: string) => ORDERS.find((v) => v.label === label)!;
    const [v100, v110, v111, v200, v300, v400, v500] = ["1.0.0", "1.1.0", "1.1.1", "2.0.0", "3.0.0", "4.0.0", "5.0.0"].map(at) as [
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
      (typeof ORDERS)[number],
    ];

    t.test("when the first version is published, then 201 with no changes", async (t) => {
      const res = await publish(asAliceSession, "orders-api", { ...v100, branch: "main", sessionId: aliceSession.id });
      t.equal(res.status, 201, JSON.stringify(res.body));
      t.match(res.body, {
        label: "1.0.0",
        seq: 1,
        created: true,
        sessionId: aliceSession.id,
        branch: "main",
        previousLabel: null,
        changes: [],
        compatibility: { policy: "backward", compatible: true, checkedAgainst: [] },
      });
      t.match(res.body.hash, /^[0-9a-f]{64}$/);
      t.match(res.headers["server-timing"], /^parse;dur=[\d.]+, diff;dur=[\d.]+, store;dur=[\d.]+$/, "where the time went");
    });

    t.test(
      "when the same content is published again, even as JSON or under another label, then 200 with the existing version",
      async (t) => {
        const same = await publish(alice.api, "orders-api", v100);
        t.equal(same.status, 200);
        t.match(same.body, { label: "1.0.0", seq: 1, created: false });
        const { parse } = await import("yaml");
        const asJson = await publish(alice.api, "orders-api", {
          label: "1.0.0-json",
          content: JSON.stringify(parse(v100.content), null, 2),
        });
        t.equal(asJson.status, 200, "YAML and JSON of one document are one version");
        t.equal(asJson.body.label, "1.0.0");
      },
    );

    t.test("when an optional field is added, then 201 and the change is non-breaking", async (t) => {
      const res = await publish(alice.api, "orders-api", v110);
      t.equal(res.status, 201);
      t.match(res.body, {
        label: "1.1.0",
        previousLabel: "1.0.0",
        summary: { breaking: 0 },
        compatibility: { compatible: true, checkedAgainst: ["1.0.0"] },
      });
      t.ok(res.body.summary.nonBreaking >= 1);
      t.ok(
        res.body.changes.some(
          (c: any) => c.level === "non-breaking" && c.location.endsWith(".giftWrap") && /POST \/orders/.test(c.message),
        ),
        "the request's new optional field",
      );
    });

    t.test("when only descriptions change, then every change is an annotation", async (t) => {
      const res = await publish(alice.api, "orders-api", v111);
      t.equal(res.status, 201);
      t.same(res.body.summary, { breaking: 0, dangerous: 0, nonBreaking: 0, annotation: res.body.changes.length, unclassified: 0 });
      t.ok(res.body.changes.some((c: any) => c.location === "$.info.description"));
    });

    const breakingStep = (name: string, version: { label: string; content: string }, expect: RegExp, location: RegExp) =>
      t.test(`when ${name}, then 409 lists it, check says incompatible, and force with a reason publishes it`, async (t) => {
        const refused = await publish(alice.api, "orders-api", version);
        t.equal(refused.status, 409);
        t.equal(refused.body.code, "contracts.incompatible");
        t.equal(refused.body.policy, "backward");
        t.ok(refused.body.breaking.length >= 1);
        t.ok(
          refused.body.breaking.every((b: any) => b.level === "breaking" && b.direction === "backward"),
          "only breaking changes, checked backward",
        );
        t.ok(
          refused.body.breaking.some((b: any) => expect.test(b.message) && location.test(b.location)),
          JSON.stringify(refused.body.breaking.map((b: any) => [b.location, b.message])),
        );
        const check = await bob.api.post("/v1/contracts/orders-api/check", version);
        t.equal(check.status, 200);
        t.match(check.body, { outcome: "incompatible", compatible: false, policy: "backward" });
        t.equal(check.body.breaking.length, refused.body.breaking.length);
        const noReason = await publish(alice.api, "orders-api", { ...version, force: true });
        t.equal(noReason.status, 422);
        t.equal(noReason.body.code, "contracts.reason_required");
        t.equal(noReason.body.errors[0].field, "reason");
        const forced = await publish(alice.api, "orders-api", {
          ...version,
          force: true,
          reason: `release ${version.label}: coordinated with storefront`,
        });
        t.equal(forced.status, 201);
        t.match(forced.body, {
          label: version.label,
          forced: true,
          forceReason: `release ${version.label}: coordinated with storefront`,
          compatibility: { compatible: false },
        });
        t.equal(forced.body.breaking.length, refused.body.breaking.length);
      });

    breakingStep(
      "an operation is removed",
      v200,
      /Removed\] operation DELETE \/orders\/\{orderId\}/,
      /^\$\.paths\['\/orders\/\{orderId\}'\]\.delete$/,
    );
    breakingStep("a required parameter is added", v300, /required query parameter `storeId`/, /parameters/);
    breakingStep("a response property is removed", v400, /currency/, /responses/);
    breakingStep("an enum value is removed from a request parameter", v500, /"cancelled" removed/, /enum/);

    t.test("when the history is read, then versions list newest first and diff classifies each step", async (t) => {
      const list = await bob.api.get("/v1/contracts/orders-api/versions");
      t.equal(list.status, 200);
      t.same(
        list.body.items.map((v: any) => v.label),
        ["5.0.0", "4.0.0", "3.0.0", "2.0.0", "1.1.1", "1.1.0", "1.0.0"],
      );
      t.notOk("content" in list.body.items[0], "lists carry no content");
      const expected: Record<string, Partial<Record<"breaking" | "nonBreaking" | "annotation", boolean>>> = {
        "1.0.0..1.1.0": { breaking: false, nonBreaking: true },
        "1.1.0..1.1.1": { breaking: false, nonBreaking: false, annotation: true },
        "1.1.1..2.0.0": { breaking: true },
        "2.0.0..3.0.0": { breaking: true },
        "3.0.0..4.0.0": { breaking: true },
        "4.0.0..5.0.0": { breaking: true },
      };
      for (const [range, levels] of Object.entries(expected)) {
        const [from, to] = range.split("..");
        const diff = await bob.api.get(`/v1/contracts/orders-api/diff?from=${from}&to=${to}`);
        t.equal(diff.status, 200);
        for (const [level, present] of Object.entries(levels)) t.equal(diff.body.summary[level] > 0, present, `${range} ${level}`);
      }
      const latest = await bob.api.get("/v1/contracts/orders-api/diff?from=1.0.0");
      t.match(latest.body, { from: "1.0.0", to: "5.0.0" });
      const one = await bob.api.get("/v1/contracts/orders-api/versions/2.0.0");
      t.equal(one.status, 200);
      t.equal(one.body.content, v200.content, "the content as published");
      t.match(one.body, { forced: true, previousLabel: "1.1.1" });
      const byLatest = await bob.api.get("/v1/contracts/orders-api/versions/latest");
      t.equal(byLatest.body.label, "5.0.0");
      const contract = await bob.api.get("/v1/contracts/orders-api");
      t.match(contract.body.latestVersion, { label: "5.0.0", seq: 7 });
    });

    t.test("when a label is reused for other content, then 409 with the diff from the existing content", async (t) => {
      const res = await publish(alice.api, "orders-api", { label: "1.1.0", content: v100.content });
      t.equal(res.status, 409);
      t.equal(res.body.code, "contracts.label_conflict");
      t.match(res.body.existing, { label: "1.1.0", seq: 2 });
      t.ok(res.body.diff.changes.length > 0);
      t.ok(res.body.diff.changes.some((c: any) => c.location.endsWith(".giftWrap") && c.action === "remove"));
      const check = await bob.api.post("/v1/contracts/orders-api/check", { label: "1.1.0", content: v100.content });
      t.equal(check.body.outcome, "label_conflict");
    });
  });

  t.test("when every publish is recorded, then consumers got contract.changed and contract.breaking_change alerts", async (t) => {
    const changed = await carol.api.get("/v1/alerts?type=contract.changed");
    t.equal(changed.status, 200);
    t.ok(changed.body.items.length >= 2, "two compatible changes reached the consuming team");
    t.match(changed.body.items[0], {
      recipient: { type: "team", id: storefront },
      event: { type: "contract.changed", payload: { name: "orders-api" } },
    });
    const breaking = await dave.api.get("/v1/alerts?type=contract.breaking_change");
    t.equal(breaking.body.items.length, 4, "four forced versions reached the consuming user");
    const last = breaking.body.items[0].event.payload;
    t.match(last, {
      name: "orders-api",
      label: "5.0.0",
      previousLabel: "4.0.0",
      policy: "backward",
      reason: "release 5.0.0: coordinated with storefront",
    });
    t.ok(last.breaking.length >= 1);
    const events = await bob.api.get("/v1/events?type=contract.version_published");
    t.equal(events.body.items.filter((e: any) => e.payload.name === "orders-api").length, 7);
  });

  t.test("order-event evolving (JSON Schema, backward)", async (t) => {
    const created = await create(alice.api, { name: "order-placed-event", kind: "jsonschema", providerTeamId: ordersTeam });
    t.equal(created.status, 201);
    const steps: [string, number, string, RegExp | null][] = [
      // label, status, expected levels present, a location among the breaking changes
      ["1.0.0", 201, "", null],
      ["1.1.0", 201, "non-breaking", null],
      ["1.2.0", 201, "annotation", null],
      ["2.0.0", 409, "breaking", /^\$\.(required\[5\]|properties\.currency)$/],
      ["2.1.0", 201, "non-breaking", null],
      ["3.0.0", 409, "breaking", /^\$\.properties\.amount\.type$/],
    ];
    let previous = "";
    for (const [label, status, level, location] of steps) {
      const version = EVENTS.find((v) => v.label === label)!;
      const res = await publish(alice.api, "order-placed-event", version);
      t.equal(res.status, status, `${label}: ${JSON.stringify(res.body).slice(0, 300)}`);
      if (status === 409) {
        t.ok(
          res.body.breaking.some((b: any) => location!.test(b.location)),
          `${label}: ${JSON.stringify(res.body.breaking.map((b: any) => b.location))}`,
        );
        const forced = await publish(alice.api, "order-placed-event", {
          ...version,
          force: true,
          reason: "event consumers migrated first",
        });
        t.equal(forced.status, 201);
      } else if (level) {
        t.ok(
          res.body.changes.length > 0 && res.body.changes.every((c: any) => c.level === level),
          `${label}: ${JSON.stringify(res.body.changes)}`,
        );
      }
      if (previous) {
        const diff = await bob.api.get(`/v1/contracts/order-placed-event/diff?from=${previous}&to=${label}`);
        t.equal(diff.status, 200);
      }
      previous = label;
    }
  });

  t.test("catalog evolving (GraphQL SDL, backward)", async (t) => {
    const created = await create(lead.api, { name: "catalog-graph", kind: "graphql", providerTeamId: ordersTeam });
    t.equal(created.status, 201, "a lead creates a contract for any team");
    const expect: Record<string, { status: number; levels?: string[]; location?: string }> = {
      "1.0.0": { status: 201 },
      "1.1.0": { status: 201, levels: ["non-breaking"], location: "Product.rating" },
      "1.2.0": { status: 201, levels: ["dangerous"], location: "Availability.PREORDER" },
      "1.2.1": { status: 201, levels: ["annotation"], location: "Product.sku" },
      "2.0.0": { status: 409, location: "Product.legacySku" },
      "3.0.0": { status: 409, location: "Query.products(storeId:)" },
    };
    for (const version of CATALOG) {
      const e = expect[version.label]!;
      const res = await publish(alice.api, "catalog-graph", version);
      t.equal(res.status, e.status, `${version.label}: ${JSON.stringify(res.body).slice(0, 300)}`);
      if (e.status === 409) {
        t.equal(res.body.code, "contracts.incompatible");
        t.ok(
          res.body.breaking.some((b: any) => b.location === e.location),
          `${version.label}: ${JSON.stringify(res.body.breaking)}`,
        );
        t.equal(
          (await publish(alice.api, "catalog-graph", { ...version, force: true, reason: "storefront moved to the new field" })).status,
          201,
        );
      } else if (e.levels) {
        t.same([...new Set(res.body.changes.map((c: any) => c.level))], e.levels, version.label);
        t.ok(
          res.body.changes.some((c: any) => c.location === e.location),
          `${version.label}: ${JSON.stringify(res.body.changes)}`,
        );
      }
    }
    const reformatted = CATALOG[0]!.content.replace(/\n\n/g, "\n\n\n").replace("type Money {", "# money\ntype Money {");
    const old = await bob.api.post("/v1/contracts/catalog-graph/check", { content: reformatted });
    t.match(old.body, { outcome: "incompatible", latest: "3.0.0" }, "SDL is compared as a schema, not as text");
    const firstHash = (await bob.api.get("/v1/contracts/catalog-graph/versions/1.0.0")).body.hash;
    t.equal(old.body.hash, firstHash, "comments and blank lines do not change the hash");
  });

  t.test("opaque and AsyncAPI contracts", async (t) => {
    t.equal((await create(alice.api, { name: "pricing-rules", kind: "opaque", providerTeamId: ordersTeam })).status, 201);
    t.equal((await publish(alice.api, "pricing-rules", { label: "a1b2c3d", content: "discount: 10%\r\nround: half-up\r\n" })).status, 201);
    const same = await publish(alice.api, "pricing-rules", { label: "a1b2c3e", content: "discount: 10%\nround: half-up" });
    t.equal(same.status, 200, "line endings and trailing whitespace are normalised away");
    const changed = await publish(alice.api, "pricing-rules", { label: "b2c3d4e", content: "discount: 15%\nround: half-up\n" });
    t.equal(changed.status, 201, "an opaque change never blocks");
    t.match(changed.body.changes, [{ level: "unclassified", message: /1 line added, 1 removed/ }]);

    t.equal((await create(alice.api, { name: "order-events", kind: "asyncapi", providerTeamId: ordersTeam })).status, 201);
    const v1 = {
      asyncapi: "2.6.0",
      info: { title: "Order events", version: "1.0.0" },
      channels: {
        "orders.placed": { subscribe: { message: { payload: { type: "object", properties: { orderId: { type: "string" } } } } } },
        "orders.cancelled": { subscribe: { message: { payload: { type: "object" } } } },
      },
    };
    t.equal((await publish(alice.api, "order-events", { label: "1.0.0", content: JSON.stringify(v1) })).status, 201);
    const { "orders.cancelled": _, ...channels } = v1.channels;
    const removed = await publish(alice.api, "order-events", { label: "2.0.0", content: JSON.stringify({ ...v1, channels }) });
    t.equal(removed.status, 409);
    t.match(removed.body.breaking, [{ location: "$.channels['orders.cancelled']", level: "breaking" }]);
  });

  t.test("the policy matrix (JSON Schema)", async (t) => {
    const base = {
      type: "object",
      required: ["id"],
      properties: { id: { type: "string" }, kind: { type: "string", enum: ["a", "b"] }, n: { type: "integer" } },
    };
    const kinds: Record<string, object> = {
      // optional property added: safe both ways
      additive: { ...base, properties: { ...base.properties, note: { type: "string" } } },
      // new required property: old data fails the new schema (backward breaks), new data passes the old
      backwardBreaking: { ...base, required: ["id", "n"] },
      // enum value added: old data passes the new schema, new data may fail the old (forward breaks)
      forwardBreaking: { ...base, properties: { ...base.properties, kind: { type: "string", enum: ["a", "b", "c"] } } },
      // type changed: breaks both ways
      bothBreaking: { ...base, properties: { ...base.properties, n: { type: "string" } } },
      annotation: { ...base, description: "An item." },
    };
    const ok: Record<string, string[]> = {
      backward: ["additive", "forwardBreaking", "annotation"],
      forward: ["additive", "backwardBreaking", "annotation"],
      full: ["additive", "annotation"],
      none: ["additive", "backwardBreaking", "forwardBreaking", "bothBreaking", "annotation"],
    };
    for (const policy of ["backward", "forward", "full", "none"]) {
      for (const transitive of policy === "none" ? [""] : ["", "_transitive"]) {
        const name = `matrix-${policy}${transitive.replace("_", "-")}`;
        t.equal(
          (await create(alice.api, { name, kind: "jsonschema", providerTeamId: ordersTeam, compatibility: `${policy}${transitive}` }))
            .status,
          201,
        );
        t.equal((await publish(alice.api, name, { label: "1", content: JSON.stringify(base) })).status, 201);
        for (const [kind, schema] of Object.entries(kinds)) {
          const check = await bob.api.post(`/v1/contracts/${name}/check`, { content: JSON.stringify(schema) });
          const expected = ok[policy]!.includes(kind);
          t.equal(check.body.compatible, expected, `${policy}${transitive} × ${kind}`);
          t.equal(check.body.outcome, expected ? "compatible" : "incompatible");
          if (!expected) {
            const directions = new Set(check.body.breaking.map((b: any) => b.direction));
            if (kind === "backwardBreaking") t.same([...directions], ["backward"]);
            if (kind === "forwardBreaking") t.same([...directions], ["forward"]);
          }
        }
        // Publishing agrees with the dry run.
        const res = await publish(alice.api, name, { label: "2", content: JSON.stringify(kinds.bothBreaking) });
        t.equal(res.status, policy === "none" ? 201 : 409, `${policy}${transitive} publish`);
      }
    }

    // v1 → v2 → v3 where each step is compatible with the one before, but v3 is not with v1.
    const v1 = { type: "object", properties: { a: { type: "string" } } };
    const v2 = { type: "object", properties: {} };
    const v3 = { type: "object", properties: { a: { type: "integer" } } };
    for (const policy of ["backward", "forward", "full"]) {
      for (const transitive of [false, true]) {
        const compatibility = `${policy}${transitive ? "_transitive" : ""}`;
        const name = `chain-${compatibility.replace("_", "-")}`;
        t.equal((await create(alice.api, { name, kind: "jsonschema", providerTeamId: ordersTeam, compatibility })).status, 201);
        t.equal((await publish(alice.api, name, { label: "1", content: JSON.stringify(v1) })).status, 201);
        t.equal((await publish(alice.api, name, { label: "2", content: JSON.stringify(v2) })).status, 201, `${compatibility}: v2`);
        const res = await publish(alice.api, name, { label: "3", content: JSON.stringify(v3) });
        t.equal(res.status, transitive ? 409 : 201, `${compatibility}: v3`);
        if (transitive) {
          t.ok(
            res.body.breaking.every((b: any) => b.against === "1"),
            "found against the first version only",
          );
          const check = await bob.api.post(`/v1/contracts/${name}/check`, { content: JSON.stringify(v3) });
          t.same(check.body.checkedAgainst, ["1", "2"]);
        }
      }
    }
  });

  t.test("when the policy changes, then the next publish is judged by it and consumers hear of the change", async (t) => {
    const patch = await alice.api.patch("/v1/contracts/catalog-graph", { compatibility: "none", description: "Catalog graph" });
    t.equal(patch.status, 200);
    t.match(patch.body, { compatibility: "none", description: "Catalog graph" });
    const updated = await carol.api.get("/v1/alerts?type=contract.updated");
    t.equal(updated.body.items.length, 0, "the storefront team does not consume the catalog");
    const unchanged = await alice.api.patch("/v1/contracts/catalog-graph", { compatibility: "none" });
    t.equal(unchanged.status, 200);
    const events = await bob.api.get("/v1/events?type=contract.updated");
    const mine = events.body.items.filter((e: any) => e.payload.name === "catalog-graph");
    t.equal(mine.length, 1, "a change to nothing records nothing");
    t.same(mine[0].payload.changed.compatibility, { from: "backward", to: "none" });
    const back = await publish(alice.api, "catalog-graph", CATALOG[0]!);
    t.equal(back.status, 200, "1.0.0's content under its own label is that version");
    const revert = await publish(alice.api, "catalog-graph", { label: "4.0.0", content: CATALOG[0]!.content });
    t.equal(revert.status, 201, "earlier content under a new label is a revert: a new version");
    t.match(revert.body, { seq: 7, previousLabel: "3.0.0", forced: false });
  });
  t.test("the proposal flow", async (t) => {
    // The orders-api is at 5.0.0; the provider's agent proposes 5.1.0 before writing code.
    const proposed = ORDERS.at(-1)!
      .content.replace(
        "        note: { type: string }\n        trackingUrl",
        "        note: { type: string }\n        carrier: { type: string }\n        trackingUrl",
      )
      .replace("  version: 5.0.0\n", "  version: 5.1.0\n");
    const open = await asAliceSession.post("/v1/contracts/orders-api/proposals", {
      content: proposed,
      label: "5.1.0",
      description: "Expose the carrier next to the tracking URL.",
    });
    t.equal(open.status, 201, JSON.stringify(open.body).slice(0, 400));
    t.match(open.body, {
      status: "open",
      verdict: "pending",
      label: "5.1.0",
      sessionId: aliceSession.id,
      proposedBy: alice.id,
      baseLabel: "5.0.0",
      compatibility: { compatible: true },
      summary: { breaking: 0 },
      answers: [],
    });
    t.equal(open.body.pending.length, 3, "three consumers have not answered");
    const id = open.body.id as string;
    const again = await alice.api.post("/v1/contracts/orders-api/proposals", { content: proposed });
    t.equal(again.status, 200, "the same content proposed again is the open proposal");
    t.equal(again.body.id, id);
    const unchanged = await alice.api.post("/v1/contracts/orders-api/proposals", { content: ORDERS.at(-1)!.content });
    t.equal(unchanged.status, 409);
    t.equal(unchanged.body.code, "contracts.unchanged");

    const alerted = await carol.api.get("/v1/alerts?type=contract.proposal_opened");
    t.equal(alerted.body.items.length, 1, "the consuming team is alerted");
    t.match(alerted.body.items[0].event.payload, { proposalId: id, name: "orders-api", baseLabel: "5.0.0", compatible: true });
    t.ok(
      alerted.body.items[0].event.payload.changes.some((c: any) => c.location.endsWith(".carrier")),
      "with the diff",
    );

    const storefrontConsumer = (await bob.api.get("/v1/contracts/orders-api")).body.consumers.find((c: any) => c.kind === "team").id;
    const ack = await carol.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, {
      answer: "ack",
      comment: "Storefront can show it.",
    });
    t.equal(ack.status, 200);
    t.match(ack.body, {
      verdict: "pending",
      answers: [{ consumerId: storefrontConsumer, answer: "ack", answeredBy: carol.id, comment: "Storefront can show it." }],
    });
    const object = await dave.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, {
      answer: "object",
      comment: "Carrier names need a fixed list.",
    });
    t.equal(object.status, 200);
    t.equal(object.body.verdict, "objected");
    t.equal(object.body.answers.length, 3, "dave speaks as the consuming user and as whoever declared the repo consumer");
    const answeredAlerts = await alice.api.get("/v1/alerts?type=contract.proposal_answered");
    t.same(
      [...new Set(answeredAlerts.body.items.map((a: any) => a.recipient.type))].sort(),
      ["session", "team", "user"],
      "the proposer (as user and session) and the provider team hear each answer",
    );
    t.equal(new Set(answeredAlerts.body.items.map((a: any) => a.event.id)).size, 2);
    t.match(answeredAlerts.body.items[0].event.payload, {
      answer: "object",
      comment: "Carrier names need a fixed list.",
      verdict: "objected",
    });
    const notConsumer = await bob.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, { answer: "ack" });
    t.equal(notConsumer.status, 403);
    t.equal(notConsumer.body.code, "contracts.not_consumer");
    const notTheirs = await bob.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, {
      answer: "ack",
      consumerId: storefrontConsumer,
    });
    t.equal(notTheirs.status, 403, "naming someone else's consumer");
    const change = await dave.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, {
      answer: "ack",
      comment: "Fine as free text for now.",
    });
    t.equal(change.body.verdict, "acked", "every consumer acked once dave changed his answer");
    t.same(change.body.pending, []);

    const list = await bob.api.get("/v1/contracts/orders-api/proposals?status=open");
    t.same(
      list.body.items.map((p: any) => p.id),
      [id],
    );
    const one = await bob.api.get(`/v1/contracts/orders-api/proposals/${id}`);
    t.equal(one.body.content, proposed);

    const published = await asAliceSession.post("/v1/contracts/orders-api/versions", { label: "5.1.0", content: proposed });
    t.equal(published.status, 201);
    t.same(published.body.proposalsClosed, [id], "publishing the proposed content closes the proposal");
    const closed = await bob.api.get(`/v1/contracts/orders-api/proposals/${id}`);
    t.match(closed.body, { status: "published", versionLabel: "5.1.0", closedBy: alice.id });
    const closedAlert = await carol.api.get("/v1/alerts?type=contract.proposal_closed");
    t.match(closedAlert.body.items[0].event.payload, { proposalId: id, resolution: "published", label: "5.1.0" });
    const late = await carol.api.post(`/v1/contracts/orders-api/proposals/${id}/answers`, { answer: "object" });
    t.equal(late.status, 409);
    t.equal(late.body.code, "contracts.proposal_closed");

    const breaking = await alice.api.post("/v1/contracts/orders-api/proposals", {
      // Renaming a path removes the old one from under its clients.
      content: proposed.replace("\n  /orders/{orderId}:\n", "\n  /order/{orderId}:\n"),
      description: "Rename the order path?",
    });
    t.equal(breaking.status, 201);
    t.match(breaking.body, { compatibility: { compatible: false } });
    t.ok(breaking.body.breaking.length > 0, "consumers see that it would break them");
    t.equal(
      (await carol.api.post(`/v1/contracts/orders-api/proposals/${breaking.body.id}/withdraw`, {})).status,
      403,
      "a consumer cannot withdraw it",
    );
    const withdrawn = await alice.api.post(`/v1/contracts/orders-api/proposals/${breaking.body.id}/withdraw`, { reason: "no" });
    t.match(withdrawn.body, { status: "withdrawn" });
  });

  t.test("bad input", async (t) => {
    t.equal((await create(alice.api, { name: "bad-yaml", kind: "openapi", providerTeamId: ordersTeam })).status, 201);
    const bad = (content: string, kind = "bad-yaml") => publish(alice.api, kind, { label: "1.0.0", content });

    const yaml = await bad("openapi: 3.0.3\ninfo:\n  title: x\n  version: '1'\npaths:\n  /a: [1, 2\n");
    t.equal(yaml.status, 422);
    t.equal(yaml.body.code, "contracts.invalid_content");
    t.equal(yaml.headers["content-type"], "application/problem+json; charset=utf-8");
    t.match(yaml.body.location, { line: Number, column: Number });
    t.ok(yaml.body.location.line >= 6, JSON.stringify(yaml.body));
    t.equal(yaml.body.errors[0].field, "content");

    const json = await bad('{\n  "openapi": "3.0.3",\n  "info": { "title": "x", "version": "1" },\n  "paths": { "/a": }\n}');
    t.equal(json.status, 422);
    t.equal(json.body.location.line, 4, "a JSON error located by line and column");

    const structural = await bad("openapi: 3.0.3\ninfo:\n  title: x\n  version: '1'\npaths:\n  orders: {}\n");
    t.equal(structural.status, 422);
    t.match(structural.body, { path: "$.paths.orders", location: { line: 6, column: 3 } });

    const dangling = await bad(
      "openapi: 3.0.3\ninfo: { title: x, version: '1' }\npaths:\n  /a:\n    get:\n      responses:\n        '200': { $ref: '#/components/responses/Missing' }\n",
    );
    t.equal(dangling.status, 422);
    t.match(dangling.body.detail, /#\/components\/responses\/Missing/);

    const external = await bad(
      "openapi: 3.0.3\ninfo: { title: x, version: '1' }\npaths:\n  /a:\n    get:\n      responses:\n        '200': { $ref: 'https://schemas.example.com/common.yaml#/Ok' }\n",
    );
    t.equal(external.status, 422);
    t.equal(external.body.code, "contracts.external_ref");
    t.match(external.body.detail, /never fetches/);
    t.match(external.body.location, { line: 7 });

    const swagger = await bad('{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}');
    t.equal(swagger.body.code, "contracts.unsupported_version");
    const asyncapi = await bad("asyncapi: 2.6.0\ninfo: { title: x, version: '1' }\nchannels: {}\n");
    t.equal(asyncapi.status, 422);
    t.equal(asyncapi.body.code, "contracts.kind_mismatch");
    const sdl = await bad("type Query {\n  orders: [String!]!\n}\n");
    t.equal(sdl.body.code, "contracts.kind_mismatch");

    const gqlSyntax = await publish(lead.api, "catalog-graph", { label: "9.9.9", content: "type Query {\n  products: [Product!\n}\n" });
    t.equal(gqlSyntax.status, 422);
    t.match(gqlSyntax.body, { code: "contracts.invalid_content", location: { line: 3, column: 1 } });
    const gqlUnknown = await publish(lead.api, "catalog-graph", { label: "9.9.9", content: "type Query {\n  products: [Product!]!\n}\n" });
    t.equal(gqlUnknown.status, 422);
    t.match(gqlUnknown.body, { detail: /Unknown type "Product"/, location: { line: 2 } });
    const gqlJson = await publish(lead.api, "catalog-graph", { label: "9.9.9", content: '{"openapi": "3.0.3"}' });
    t.equal(gqlJson.body.code, "contracts.kind_mismatch");
    const schemaMismatch = await publish(alice.api, "order-placed-event", { label: "9.9.9", content: ORDERS[0]!.content });
    t.equal(schemaMismatch.body.code, "contracts.kind_mismatch");
    const badSchema = await publish(alice.api, "order-placed-event", {
      label: "9.9.9",
      content: '{"type": "object", "properties": {"a": {"type": "text"}}}',
    });
    t.match(badSchema.body, { code: "contracts.invalid_content", path: "$.properties.a.type" });

    const big = await bad(`openapi: 3.0.3\ninfo: { title: x, version: '1', description: '${"x".repeat(300 * 1024)}' }\npaths: {}\n`);
    t.equal(big.status, 413);
    t.equal(big.body.code, "contracts.content_too_large");
    const versions = await bob.api.get("/v1/contracts/bad-yaml/versions");
    t.same(versions.body.items, [], "nothing was stored");

    t.equal((await bob.api.get("/v1/contracts/nope")).body.code, "contracts.not_found");
    t.equal((await bob.api.get("/v1/contracts/nope")).status, 404);
    t.equal((await publish(alice.api, "nope", ORDERS[0]!)).status, 404);
    const noVersion = await bob.api.get("/v1/contracts/orders-api/versions/0.0.1");
    t.equal(noVersion.status, 404);
    t.equal(noVersion.body.code, "contracts.version_not_found");
    t.equal((await bob.api.get("/v1/contracts/bad-yaml/diff?from=latest")).status, 404);
    t.equal(
      (await bob.api.get("/v1/contracts/orders-api/proposals/0190a6b2-0000-7000-8000-000000000000")).body.code,
      "contracts.proposal_not_found",
    );

    const unknownField = await create(alice.api, { name: "x1", kind: "openapi", providerTeamId: ordersTeam, owner: "me" });
    t.equal(unknownField.status, 400);
    t.equal(unknownField.body.errors[0].field, "owner");
    const badKind = await create(alice.api, { name: "x2", kind: "wsdl", providerTeamId: ordersTeam });
    t.equal(badKind.body.errors[0].field, "kind");
    const badName = await create(alice.api, { name: "Orders API", kind: "openapi", providerTeamId: ordersTeam });
    t.equal(badName.body.errors[0].field, "name");
    const badPolicy = await create(alice.api, { name: "x3", kind: "openapi", providerTeamId: ordersTeam, compatibility: "sideways" });
    t.equal(badPolicy.body.errors[0].field, "compatibility");
    const badPattern = await create(alice.api, {
      name: "x4",
      kind: "openapi",
      providerTeamId: ordersTeam,
      source: { repo: shopRepo, patterns: ["src/../x"] },
    });
    t.equal(badPattern.status, 422);
    t.equal(badPattern.body.errors[0].field, "source.patterns[0]");
    const noTeam = await create(alice.api, { name: "x5", kind: "openapi", providerTeamId: "0190a6b2-0000-7000-8000-000000000000" });
    t.equal(noTeam.status, 404);
    t.equal(noTeam.body.errors[0].field, "providerTeamId");
    const latestLabel = await publish(alice.api, "bad-yaml", { label: "latest", content: ORDERS[0]!.content });
    t.equal(latestLabel.status, 400);
    t.equal(latestLabel.body.errors[0].field, "label");
    const noContent = await publish(alice.api, "bad-yaml", { label: "1" });
    t.equal(noContent.body.errors[0].field, "content");
    const badConsumer = await carol.api.post("/v1/contracts/orders-api/consumers", { kind: "team" });
    t.equal(badConsumer.status, 400);
    t.equal(badConsumer.body.errors[0].field, "teamId");
  });

  t.test("security", async (t) => {
    const anonymous = client(app);
    t.equal((await anonymous.get("/v1/contracts")).status, 401, "no token");
    t.equal((await anonymous.post("/v1/contracts/orders-api/versions", ORDERS[0])).status, 401);

    const other = await createOrg(app, rootToken);
    t.equal((await other.api.get("/v1/contracts/orders-api")).status, 404, "another organisation's token");
    t.equal((await other.api.post("/v1/contracts/orders-api/versions", ORDERS[0])).status, 404);
    t.equal((await other.api.get("/v1/contracts/orders-api/versions/1.0.0")).status, 404);
    t.same((await other.api.get("/v1/contracts")).body.items, []);
    const otherTeam = await other.api.post("/v1/teams", { name: "orders" });
    t.equal(
      (await other.api.post("/v1/contracts", { name: "orders-api", kind: "openapi", providerTeamId: otherTeam.body.id })).status,
      201,
      "names are per organisation",
    );
    t.equal(
      (await alice.api.post("/v1/contracts/orders-api/consumers", { kind: "team", teamId: otherTeam.body.id })).status,
      404,
      "another organisation's team",
    );

    const notProvider = await publish(bob.api, "orders-api", { label: "6.0.0", content: ORDERS[0]!.content });
    t.equal(notProvider.status, 403, "a member outside the provider team cannot publish");
    t.equal(notProvider.body.code, "contracts.not_provider");
    t.equal((await bob.api.post("/v1/contracts/orders-api/proposals", { content: ORDERS[0]!.content })).status, 403);
    t.equal((await bob.api.patch("/v1/contracts/orders-api", { compatibility: "none" })).status, 403);
    t.equal((await bob.api.post("/v1/contracts/orders-api/archive")).status, 403);
    t.equal(
      (await create(bob.api, { name: "not-mine", kind: "openapi", providerTeamId: ordersTeam })).status,
      403,
      "a contract for a team one is not in",
    );
    const consumers = (await bob.api.get("/v1/contracts/orders-api")).body.consumers;
    t.equal((await bob.api.delete(`/v1/contracts/orders-api/consumers/${consumers[0].id}`)).status, 403, "someone else's consumer");

    const bobSession = await startSession(bob.api, { repo: shopRepo });
    const outside = await asAliceSession.post("/v1/contracts/orders-api/versions", {
      label: "6.0.0",
      content: ORDERS[0]!.content,
      sessionId: bobSession.id,
    });
    t.equal(outside.status, 403, "a session token naming another session");
    t.equal(outside.body.code, "auth.outside_session");
    const notOwn = await alice.api.post("/v1/contracts/orders-api/versions", {
      label: "6.0.0",
      content: ORDERS[0]!.content,
      sessionId: bobSession.id,
    });
    t.equal(notOwn.status, 404, "a personal token naming someone else's session");
    const sessionCreate = await create(asAliceSession, { name: "from-agent", kind: "openapi", providerTeamId: ordersTeam });
    t.equal(sessionCreate.status, 403, "session tokens do not manage contracts");
    t.equal(sessionCreate.body.code, "auth.session_token_not_allowed");
    t.equal((await client(app, bobSession.token).get("/v1/contracts/orders-api")).status, 200, "any session reads");
  });

  t.test("who owns a path lists the contracts its source patterns cover", async (t) => {
    const owners = await bob.api.get(`/v1/repos/${encodeURIComponent(shopRepo)}/owners?path=services/orders/src/http/routes.ts`);
    t.equal(owners.status, 200);
    t.same(owners.body.contracts, [
      { name: "orders-api", kind: "openapi", providerTeamId: ordersTeam, matchedPattern: "services/orders/src/http/**" },
    ]);
    const elsewhere = await bob.api.get(`/v1/repos/${encodeURIComponent(shopRepo)}/owners?path=services/billing/main.ts`);
    t.same(elsewhere.body.contracts, []);
    t.equal((await create(alice.api, { name: "billing-api", kind: "opaque", providerTeamId: ordersTeam })).status, 201);
    const moved = await alice.api.patch("/v1/contracts/billing-api", { source: { repo: shopRepo, patterns: ["services/billing/**"] } });
    t.equal(moved.status, 200);
    const now = await bob.api.get(`/v1/repos/${encodeURIComponent(shopRepo)}/owners?path=services/billing/main.ts`);
    t.same(
      now.body.contracts.map((c: any) => c.name),
      ["billing-api"],
      "a source change through this process is seen at once",
    );
    const archived = await alice.api.post("/v1/contracts/billing-api/archive");
    t.match(archived.body, { status: "archived" });
    t.equal((await alice.api.post("/v1/contracts/billing-api/archive")).status, 200, "archiving is idempotent");
    const after = await bob.api.get(`/v1/repos/${encodeURIComponent(shopRepo)}/owners?path=services/billing/main.ts`);
    t.same(after.body.contracts, [], "archived contracts own nothing");
    const refused = await publish(alice.api, "billing-api", { label: "1", content: "x" });
    t.equal(refused.status, 409);
    t.equal(refused.body.code, "contracts.archived");
    t.same(
      (await bob.api.get("/v1/contracts?archived=true")).body.items.map((c: any) => c.name),
      ["billing-api"],
    );
    t.notOk((await bob.api.get("/v1/contracts")).body.items.some((c: any) => c.name === "billing-api"));
    t.same(
      (await bob.api.get(`/v1/contracts?consumer=${storefront}`)).body.items.map((c: any) => c.name),
      ["orders-api"],
    );
    t.same(
      (await bob.api.get(`/v1/contracts?repo=${encodeURIComponent("https://github.com/Acme/shop")}`)).body.items.map((c: any) => c.name),
      ["orders-api"],
    );
  });

  // Last: this one needs the outbox relay publishing to NATS (or the in-process bus).
  t.test("when a session claims or touches a contract's source, then its consumers are alerted over the bus", async (t) => {
    const me = await alice.api.get("/v1/me");
    const orgId = me.body.org.id as string;
    // The consumer's agent works in the consuming repo, inside the repo consumer's patterns.
    const webSession = await startSession(carol.api, {
      repo: "git@github.com:acme/web.git",
      agent: { name: "carol-codex", kind: "codex" },
    });
    const asWeb = client(app, webSession.token);
    t.equal((await asWeb.post("/v1/claims", { sessionId: webSession.id, patterns: ["src/api/orders/list.ts"] })).status, 201);

    const received: { subject: string; body: any }[] = [];
    const subjects = [
      `${prefix}.${orgId}.alerts.team.${storefront}`,
      `${prefix}.${orgId}.alerts.session.${webSession.id}`,
      `${prefix}.${orgId}.alerts.user.${dave.id}`,
    ];
    let nc: NatsConnection | null = null;
    if (built.config.NATS_URL) {
      // A consumer's own subscriber, outside Brigade.
      nc = await connect({ servers: built.config.NATS_URL });
      t.teardown(() => nc!.close());
      for (const subject of subjects) {
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) received.push({ subject: msg.subject, body: msg.json() });
          },
        });
      }
      await nc.flush();
    } else {
      for (const subject of subjects)
        built.bus.subscribe(subject, (m) => received.push({ subject: m.subject, body: JSON.parse(new TextDecoder().decode(m.data)) }));
    }
    const atRisk = () => received.filter((r) => r.body.type === "contract.at_risk");

    const unrelated = await asAliceSession.post("/v1/claims", { sessionId: aliceSession.id, patterns: ["services/billing/**"] });
    t.equal(unrelated.status, 201);
    const claim = await asAliceSession.post("/v1/claims", {
      sessionId: aliceSession.id,
      patterns: ["services/orders/src/**"],
      reason: "rework the order routes",
    });
    t.equal(claim.status, 201);
    await waitFor("the at-risk alerts on the bus", () => atRisk().length >= 3 && atRisk());
    const onTeam = atRisk().find((r) => r.subject.endsWith(`.team.${storefront}`))!;
    t.ok(onTeam, "the consuming team's subject");
    t.match(onTeam.body, {
      recipient: { type: "team", id: storefront },
      event: { type: "contract.at_risk", repo: shopRepo, actor: { type: "session", id: aliceSession.id } },
    });
    t.match(onTeam.body.event.payload, {
      name: "orders-api",
      via: "claim",
      claimId: claim.body.id,
      sessionId: aliceSession.id,
      userId: alice.id,
      agent: "alice-claude",
    });
    t.match(onTeam.body.event.payload.matches[0], {
      yours: "services/orders/src/**",
      source: "services/orders/src/http/**",
      witness: /^services\/orders\/src\/http\//,
    });
    t.ok(
      atRisk().some((r) => r.subject.endsWith(`.session.${webSession.id}`)),
      "the session working on the consuming code",
    );
    t.ok(
      atRisk().some((r) => r.subject.endsWith(`.user.${dave.id}`)),
      "the consuming user",
    );
    t.equal(atRisk().filter((r) => r.body.event.payload.claimId === unrelated.body.id).length, 0, "a claim elsewhere alerts nobody");

    // Another session's edit to the spec itself: one alert, however often its hooks report it.
    const bobSession = await startSession(bob.api, { repo: shopRepo, agent: { name: "bob-cursor", kind: "cursor" } });
    const asBob = client(app, bobSession.token);
    t.equal((await asBob.post(`/v1/sessions/${bobSession.id}/touches`, { paths: ["services/orders/openapi.yaml"] })).status, 200);
    await waitFor("the touch's at-risk alert", () => atRisk().some((r) => r.body.event.payload.sessionId === bobSession.id));
    t.equal((await asBob.post(`/v1/sessions/${bobSession.id}/touches`, { paths: ["services/orders/openapi.yaml"] })).status, 200);
    t.equal(
      (await asAliceSession.post("/v1/claims", { sessionId: aliceSession.id, patterns: ["services/orders/openapi.yaml"] })).status,
      201,
    );
    await sleep(500);
    const touchAlerts = atRisk().filter(
      (r) => r.body.event.payload.sessionId === bobSession.id && r.subject.endsWith(`.team.${storefront}`),
    );
    t.equal(touchAlerts.length, 1, "one alert per session and contract");
    t.match(touchAlerts[0]!.body.event.payload, {
      via: "touch",
      claimId: null,
      matches: [{ yours: "services/orders/openapi.yaml", source: "services/orders/openapi.yaml" }],
    });
    t.equal(
      atRisk().filter((r) => r.body.event.payload.sessionId === aliceSession.id && r.subject.endsWith(`.team.${storefront}`)).length,
      1,
    );

    const inbox = await carol.api.get("/v1/alerts?type=contract.at_risk");
    t.equal(new Set(inbox.body.items.map((a: any) => a.event.id)).size, 2, "also in the consumers' inbox (as team and as working session)");
  });
});
