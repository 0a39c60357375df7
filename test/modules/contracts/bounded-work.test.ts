import t, { type Test } from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { maxOf, victimBound, victimLatencies } from "../../helpers/victim.js";

/** A JSON Schema of n definitions, each referring twice to the next: 2^n paths once `$ref`s are expanded. */
const fanOut = (n: number, leaf: string) => {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    defs[`a${i}`] = { type: "object", properties: { x: { $ref: `#/$defs/a${i + 1}` }, y: { $ref: `#/$defs/a${i + 1}` } } };
  defs[`a${n}`] = { type: leaf };
  return JSON.stringify({ $defs: defs, $ref: "#/$defs/a0" });
};

/** A schema nested `depth` properties deep. */
const deep = (depth: number) => `${'{"type":"object","properties":{"a":'.repeat(depth)}{"type":"string"}${"}}".repeat(depth)}`;

/** About 2 MB of valid GraphQL SDL. */
const bigSdl = () => {
  const types: string[] = [];
  for (let i = 0, size = 0; size < 2_000_000; i++) {
    const type = `type T${i} { a: String b: Int c: [T${i}] }\n`;
    types.push(type);
    size += type.length;
  }
  return `type Query { t: T0 }\n${types.join("")}`;
};

t.test("bounded contract work", async (t) => {
  const { app, rootToken } = await startTestApp(t, {
    CONTRACT_WORKERS: "1",
    CONTRACT_WORK_TIMEOUT_MS: "1000",
    CONTRACT_WORK_MEMORY_MB: "96",
  });
  const root = client(app, rootToken);
  const member = await createUser(app, rootToken, "member");
  const team = await root.post("/v1/teams", { name: "bounded" });
  await root.put(`/v1/teams/${team.body.id}/members/${member.id}`);
  const session = await startSession(member.api, { repo: "github.com/acme/bounded" });
  const asSession = client(app, session.token);
  const victim = client(app, (await createOrg(app, rootToken)).token);

  const contract = async (name: string, kind: string) =>
    t.equal((await member.api.post("/v1/contracts", { name, kind, providerTeamId: team.body.id })).status, 201);
  await contract("fan", "jsonschema");
  await contract("deep", "jsonschema");
  await contract("sdl", "graphql");
  // The first task of a fresh worker loads the parsers: not part of what is measured.
  const warm = await member.api.post("/v1/contracts/fan/check", { content: '{"type":"object"}' });
  t.equal(warm.status, 200, JSON.stringify(warm.body).slice(0, 300));
  const baseline = await victimLatencies(victim);

  const attack = async (t: Test, name: string, content: string, codes: string[]) => {
    const request = asSession.post(`/v1/contracts/${name}/check`, { content });
    const during = await victimLatencies(victim, request);
    const res = await request;
    t.equal(res.status, 422, JSON.stringify(res.body).slice(0, 300));
    t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    t.ok(codes.includes(res.body.code), `code ${res.body.code}`);
    t.ok(
      maxOf(during) <= victimBound(baseline),
      `victim's slowest ${maxOf(during).toFixed(0)} ms ≤ ${victimBound(baseline).toFixed(0)} ms`,
    );
    return res;
  };

  t.test("when a schema whose $refs fan out exponentially is checked against the same shape, then 422 contracts.too_complex", async (t) => {
    const first = await member.api.post("/v1/contracts/fan/versions", { label: "1.0.0", content: fanOut(18, "string") });
    t.equal(first.status, 201, JSON.stringify(first.body).slice(0, 300));
    const res = await attack(t, "fan", fanOut(18, "integer"), ["contracts.too_complex"]);
    t.match(res.body.limit, /^CONTRACT_WORK_(TIMEOUT_MS|MEMORY_MB)$/, "the limit is named");
    t.match(res.body.detail, /CONTRACT_WORK_/);
    // A cheap task (no version to diff against): only the worker's replacement is under test.
    const small = await member.api.post("/v1/contracts/deep/check", { content: fanOut(4, "string") });
    t.equal(small.status, 200, `the replaced worker serves the next request: ${JSON.stringify(small.body).slice(0, 300)}`);
  });

  t.test("when a very deep schema is checked, then 422, never a 500", async (t) => {
    t.equal((await member.api.post("/v1/contracts/deep/versions", { label: "1.0.0", content: deep(100) })).status, 201);
    await attack(t, "deep", deep(20_000), ["contracts.too_complex", "contracts.invalid_content"]);
  });

  t.test("when 2 MB of GraphQL SDL is checked, then 422 contracts.too_complex and other tenants are served", async (t) => {
    await attack(t, "sdl", bigSdl(), ["contracts.too_complex"]);
    const ok = await member.api.post("/v1/contracts/sdl/check", { content: "type Query { a: String }" });
    t.equal(ok.status, 200, `an ordinary SDL still checks: ${JSON.stringify(ok.body).slice(0, 300)}`);
  });
});
