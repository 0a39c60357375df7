import t, { type Test } from "tap";
import { AppError } from "../../../src/http/problem.js";
import fc from "fast-check";
import { canonicalForm, canonicalJson, parseContent } from "../../../src/modules/contracts/contracts.content.js";

/** The problem parseContent throws for `text` (fails the test if it parses). */
function problemOf(t: Test, kind: Parameters<typeof parseContent>[0], text: string): AppError {
  try {
    parseContent(kind, text);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  t.fail("expected a problem");
  return new AppError(0, "", "");
}

const header = "openapi: 3.0.3\ninfo: { title: x, version: '1' }\n";

t.test("when YAML is invalid, then the problem says where, 1-based", async (t) => {
  const flow = problemOf(t, "openapi", `${header}paths:\n  /a: [1, 2\n`);
  t.equal(flow.code, "contracts.invalid_content");
  t.match(flow.extra.location, { line: 5, column: 1 });
  t.match(flow.detail, /\(line 5, column 1\)/);

  const duplicate = problemOf(t, "openapi", `${header}paths: {}\npaths: {}\n`);
  t.match(duplicate.extra.location, { line: 4, column: 1 });
  t.match(duplicate.detail, /duplicate/);

  const indent = problemOf(t, "openapi", `${header}paths:\n  /a:\n    get: {}\n   post: {}\n`);
  t.match(indent.extra.location, { line: 6 });
});

t.test("when the content holds two YAML documents, then it is refused at the second", async (t) => {
  const two = problemOf(t, "openapi", `${header}paths: {}\n---\nopenapi: 3.0.3\n`);
  t.equal(two.code, "contracts.invalid_content");
  t.match(two.extra.location, { line: 4, column: 1 });
  t.match(two.detail, /2 YAML documents/);
});

t.test("when aliases refer to themselves or expand exponentially, then the document is refused", async (t) => {
  t.match(problemOf(t, "jsonschema", "type: object\nproperties: &p\n  self: { properties: *p }\n").extra.errors, [
    { reason: "alias refers to itself" },
  ]);
  let bomb = 'type: object\nl0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
  for (let i = 1; i < 9; i++)
    bomb += `l${i}: &l${i} [${Array(9)
      .fill(`*l${i - 1}`)
      .join(", ")}]\n`;
  t.match(problemOf(t, "jsonschema", bomb).extra.errors, [{ reason: "excessive aliasing" }]);
});

t.test("when aliases are used modestly, then they are expanded like copies", async (t) => {
  const parsed = parseContent("jsonschema", "type: object\nproperties:\n  a: &s { type: string, maxLength: 3 }\n  b: *s\n");
  t.same(parsed.document, { properties: { a: { maxLength: 3, type: "string" }, b: { maxLength: 3, type: "string" } }, type: "object" });
});

t.test("when YAML uses the core schema's spellings, then they resolve as YAML 1.2 says", async (t) => {
  const parsed = parseContent("jsonschema", 'type: object\nexamples: [2024-01-01, 0x1F, 0o17, 1e3, True, ~, yes]\n"<<": 1\n');
  t.same(
    (parsed.document as Record<string, unknown>).examples,
    ["2024-01-01", 31, 15, 1000, true, null, "yes"],
    "no timestamps, no YAML 1.1 booleans",
  );
  t.equal((parsed.document as Record<string, unknown>)["<<"], 1, "no merge keys");
});

t.test("when the content is empty or only comments, then it is not an object", async (t) => {
  t.match(problemOf(t, "openapi", "# nothing yet\n").detail, /parsed as nothing/);
});

t.test("when an AsyncAPI 3.0 operation has no direction or no channel, then the problem names it", async (t) => {
  const doc = (operation: string) =>
    `asyncapi: 3.0.0\ninfo: { title: x, version: '1' }\nchannels: { a: { address: a } }\noperations:\n  sendA: ${operation}\n`;
  t.equal(parseContent("asyncapi", doc("{ action: send, channel: { $ref: '#/channels/a' } }")).kind, "asyncapi");
  const action = problemOf(t, "asyncapi", doc("{ action: publish, channel: { $ref: '#/channels/a' } }"));
  t.equal(action.code, "contracts.invalid_content");
  t.match(action.extra, { path: "$.operations.sendA.action", location: { line: 5 } });
  t.match(problemOf(t, "asyncapi", doc("{ action: receive }")).extra, { path: "$.operations.sendA.channel" });
  t.equal(problemOf(t, "asyncapi", "asyncapi: 3.1.0\ninfo: { title: x, version: '1' }\n").code, "contracts.unsupported_version");
});

t.test("when protobuf files are parsed, then comments and layout do not change the hash, and imports stay inside", async (t) => {
  const files = (order: string) =>
    JSON.stringify({
      "a/order.proto": `syntax = "proto3";\npackage a;\nimport "a/money.proto";\n${order}`,
      "a/money.proto": 'syntax = "proto3";\npackage a;\nmessage Money { int64 units = 1; }\n',
    });
  const one = parseContent("protobuf", files("message Order { Money total = 1; }\n"));
  const two = parseContent("protobuf", files("// An order.\nmessage Order {\n  Money total = 1; // what it costs\n}\n"));
  t.equal(one.hash, two.hash);
  const rich = parseContent(
    "protobuf",
    `syntax = "proto2"; package z.a; option java_package = "z"; option go_package = "z/a";
     enum E { option allow_alias = true; E_ZERO = 0; E_NIL = 0; reserved 5; reserved "OLD"; }
     message M { optional int64 id = 1 [jstype = JS_STRING, json_name = "ident"]; optional string s = 2 [ctype = CORD];
       oneof pick { string b = 3; int32 a = 4; } map<string, E> m = 5; extensions 100 to 200; reserved 9, 11 to 12; reserved "gone";
       message Inner { repeated bytes r = 1; } }
     service S { rpc B(M) returns (stream M); rpc A(stream M) returns (M) { option idempotency_level = IDEMPOTENT; } }`,
  );
  t.equal(rich.normalized, canonicalJson(JSON.parse(rich.normalized)), "the model's JSON is its canonical JSON");
  t.match(JSON.parse(one.normalized), {
    messages: { "a.Order": { file: "a/order.proto", fields: [{ name: "total", type: "a.Money", kind: "message" }] } },
  });
  const reused = problemOf(t, "protobuf", 'syntax = "proto3"; message A { reserved 2; string x = 2; }');
  t.equal(reused.code, "contracts.invalid_content");
  const empty = problemOf(t, "protobuf", "{}");
  t.match(empty.detail, /at least one \.proto file/);
  const notText = problemOf(t, "protobuf", JSON.stringify({ "a.proto": 3 }));
  t.match(notText.detail, /must be a string/);
});

t.test("canonicalForm gives canonicalJson's text and the document that text parses to, for any JSON value", async (t) => {
  // Keys chosen to meet JavaScript's own enumeration order: array indexes ("9", "10", "404"),
  // names that sort before or between them ("$ref", "2XX", "-"), numbers that look alike ("01"),
  // and `__proto__`, which JSON makes an ordinary property.
  const key = fc.oneof(
    fc.constantFrom("0", "1", "9", "10", "200", "2XX", "404", "01", "4294967294", "4294967295", "$ref", "-", "__proto__", "a", "B", "é"),
    fc.string({ maxLength: 4 }),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom(null, true, false, 0, -0, 1.5, 1e21, -7, Number.NaN, Number.POSITIVE_INFINITY),
      fc.string({ maxLength: 6 }),
      fc.array(tie("node"), { maxLength: 4 }),
      fc.array(fc.tuple(key, tie("node")), { maxLength: 5 }).map((entries) => {
        const record: Record<string, unknown> = {};
        for (const [k, v] of entries) Object.defineProperty(record, k, { value: v, enumerable: true, writable: true, configurable: true });
        return record;
      }),
    ),
  })).node;
  const sameAsDefinition = fc.check(
    fc.property(value, (v) => {
      const { document, normalized } = canonicalForm(v);
      const parsed: unknown = JSON.parse(normalized);
      return (
        normalized === canonicalJson(v) &&
        // The same values, and enumerated as the parsed text is.
        JSON.stringify(document) === JSON.stringify(parsed) &&
        Object.keys(document ?? {}).join() === Object.keys(parsed ?? {}).join()
      );
    }),
    { numRuns: 2_000 },
  );
  t.equal(sameAsDefinition.failed, false, `counterexample: ${JSON.stringify(sameAsDefinition.counterexample)}`);
  t.equal(sameAsDefinition.numRuns, 2_000);
});

t.test("canonicalForm refuses what canonicalJson refuses: more than 256 levels", async (t) => {
  let deep: unknown = "leaf";
  for (let i = 0; i < 257; i++) deep = [deep];
  t.throws(() => canonicalJson(deep), { code: "contracts.invalid_content" });
  t.throws(() => canonicalForm(deep), { code: "contracts.invalid_content" });
  t.same(canonicalForm((deep as unknown[])[0]).document, (deep as unknown[])[0], "256 levels pass");
});
