import { compareOpenApi } from "api-smart-diff";
import fc from "fast-check";
import t from "tap";
import { jsonPath } from "../../../src/modules/contracts/contracts.changes.js";
import { parseContent } from "../../../src/modules/contracts/contracts.content.js";
import { checkCompatibility, diffDocuments } from "../../../src/modules/contracts/contracts.diff.js";

/** An OpenAPI document of `n` resources sharing a few nested components, as canonical parsed JSON. */
function generate(n: number) {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, any> = {};
  for (let j = 0; j < 3; j++)
    schemas[`Child${j}`] = { type: "object", properties: { x: { type: "integer" }, y: { type: "string", enum: ["p", "q"] } } };
  for (let i = 0; i < n; i++) {
    schemas[`R${i}`] = {
      type: "object",
      required: ["id", "kind"],
      properties: {
        id: { type: "string" },
        kind: { type: "string", enum: ["a", "b", "c"] },
        child: { $ref: `#/components/schemas/Child${i % 3}` },
        tags: { type: "array", items: { type: "string" } },
      },
    };
    paths[`/r${i}`] = {
      get: {
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer" } },
          { name: "kind", in: "query", schema: { type: "string", enum: ["a", "b"] } },
        ],
        responses: {
          "200": {
            description: "ok",
            content: { "application/json": { schema: { type: "array", items: { $ref: `#/components/schemas/R${i}` } } } },
          },
        },
      },
      post: {
        requestBody: { content: { "application/json": { schema: { $ref: `#/components/schemas/R${i}` } } } },
        responses: { "201": { description: "created" } },
      },
    };
  }
  return { openapi: "3.0.3", info: { title: "generated", version: "1" }, paths, components: { schemas } };
}

const N = 12;
const edits: ((d: any, i: number) => void)[] = [
  (d, i) => delete d.paths[`/r${i}`].post,
  (d, i) => (d.components.schemas[`R${i}`].properties.extra = { type: "string" }),
  (d, i) => (d.components.schemas[`R${i}`].required = ["id"]),
  (d, i) => (d.components.schemas[`Child${i % 3}`].properties.y.enum = ["p"]),
  (d, i) => d.paths[`/r${i}`].get.parameters.push({ name: "q", in: "query", required: true, schema: { type: "string" } }),
  (d, i) => (d.paths[`/r${i}`].get.description = `changed ${i}`),
  (d, i) => delete d.components.schemas[`Child${i % 3}`].properties.x,
  (d, i) => (d.paths[`/r${i}`].get.parameters[1].schema.enum = ["a"]),
];

const parsed = (doc: unknown) => parseContent("openapi", JSON.stringify(doc)).document;
const key = (action: string, location: string) => `${action} ${location}`;

t.test(
  "when unchanged parts are pruned before diffing, then the changes found are exactly the unpruned diff's (levels are judged after)",
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: edits.length - 1 }), fc.integer({ min: 0, max: N - 1 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (steps) => {
          const before = generate(N);
          const after = structuredClone(before);
          for (const [edit, i] of steps) edits[edit]!(after, i);
          const full = compareOpenApi(parsed(before), parsed(after))
            .diffs.filter((d) => d.path[0] !== "components")
            .map((d) => key(d.action, jsonPath(d.path)))
            .sort();
          const pruned = diffDocuments("openapi", parsed(before), parsed(after))
            .map((c) => key(c.action ?? "", c.location))
            .sort();
          t.same(pruned, full, JSON.stringify(steps));
        },
      ),
      { numRuns: 40 },
    );
  },
);

t.test("when the same document is spelled as YAML and as JSON with keys reordered, then it has one hash", async (t) => {
  const json = parseContent("jsonschema", '{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}');
  const yaml = parseContent("jsonschema", "properties:\n  a: { type: integer }\n  b:\n    type: string\ntype: object\n");
  t.equal(json.hash, yaml.hash);
  t.equal(json.normalized, '{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}');
});

t.test("when a policy is transitive, then only it checks the versions before the latest", async (t) => {
  const v = (properties: object) => parseContent("jsonschema", JSON.stringify({ type: "object", properties })).document;
  const history = [
    { label: "1", document: () => v({ a: { type: "string" } }) },
    { label: "2", document: () => v({}) },
  ];
  const candidate = v({ a: { type: "integer" } });
  t.equal(checkCompatibility("jsonschema", "backward", candidate, history).compatible, true);
  const transitive = checkCompatibility("jsonschema", "backward_transitive", candidate, history);
  t.equal(transitive.compatible, false);
  t.same(transitive.checkedAgainst, ["1", "2"]);
  t.ok(transitive.breaking.every((b) => b.against === "1" && b.direction === "backward"));
  const none = checkCompatibility("jsonschema", "none", candidate, history);
  t.same(none.checkedAgainst, []);
  t.equal(none.changes.length > 0, true, "none still reports the changes");
});
