import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import t from "tap";
import type { ContractKind, ProtobufCategory } from "../../../src/modules/contracts/contracts.table.js";
import run, { type CompatibilityView, type ParsedText } from "../../../src/modules/contracts/contracts.worker.js";

/**
 * The conformance corpus (`corpus/`): change pairs built from the rules of the tools users
 * already trust, oasdiff for OpenAPI (its rule ids and levels: ERR breaking, WARN dangerous,
 * INFO non-breaking) and graphql-inspector for GraphQL (its change types and criticality).
 * Each pair goes through the worker task the API runs for a check (parse, then compatibility
 * under `backward` against the earlier document) and its verdict must be the reference's.
 *
 * OpenAPI pairs are written compactly: `at` says where `before`/`after` go in a small document
 * (`param`: the parameters of GET /a; `request`: the JSON request body schema of POST /a;
 * `response`: the JSON 200 response schema of GET /a; `both`: the two; `doc`: merged into the
 * document itself); `componentsBefore`/`componentsAfter` and `openapi` (the version, 3.0.3 by
 * default) are set beside them when needed.
 *
 * Protocol Buffers pairs (buf's rules) carry the contract's `category` (FILE when absent); a
 * string side is one file, given `syntax = "proto3"; package a.v1;` unless it declares its
 * syntax, and a mapping is several files (path → text), sent as the JSON form of the content.
 */

type Level = "breaking" | "dangerous" | "non-breaking";
interface Pair {
  rule: string;
  /** protobuf: buf's category the contract is judged under. */
  category?: ProtobufCategory;
  level: Level;
  at?: "param" | "request" | "response" | "both" | "doc" | "send" | "receive";
  openapi?: string;
  componentsBefore?: Record<string, unknown>;
  componentsAfter?: Record<string, unknown>;
  before: unknown;
  after: unknown;
  /** A text the reported change's sentence or location must contain. */
  says?: string;
  /** Neither the reference nor Brigade reports anything (a change nothing uses). */
  silent?: boolean;
}
interface Family {
  reference: "oasdiff" | "graphql-inspector" | "buf" | "asyncapi";
  kind: ContractKind;
  pairs: Pair[];
}

const ok = { "200": { description: "ok" } };

function openapiDoc(pair: Pair, side: unknown, which: "before" | "after"): unknown {
  const doc: Record<string, unknown> = { openapi: pair.openapi ?? "3.0.3", info: { title: "corpus", version: "1" }, paths: {} };
  const components = which === "before" ? pair.componentsBefore : pair.componentsAfter;
  if (components) doc.components = components;
  if (side === null || side === undefined) {
    if (pair.at !== "doc") doc.paths = { "/a": { get: { responses: ok }, post: { responses: ok } } };
    return doc;
  }
  switch (pair.at ?? "doc") {
    case "param":
      doc.paths = {
        "/a": { get: { parameters: Array.isArray(side) ? side : [side], responses: ok }, post: { responses: ok } },
      };
      break;
    case "request":
      doc.paths = {
        "/a": {
          get: { responses: ok },
          post: { requestBody: { content: { "application/json": { schema: side } } }, responses: ok },
        },
      };
      break;
    case "response":
      doc.paths = {
        "/a": {
          get: { responses: { "200": { description: "ok", content: { "application/json": { schema: side } } } } },
          post: { responses: ok },
        },
      };
      break;
    case "both":
      doc.paths = {
        "/a": {
          get: { responses: { "200": { description: "ok", content: { "application/json": { schema: side } } } } },
          post: { requestBody: { content: { "application/json": { schema: side } } }, responses: ok },
        },
      };
      break;
    case "doc":
      Object.assign(doc, side);
      break;
  }
  return doc;
}

const dir = join(import.meta.dirname, "corpus");
const families = readdirSync(dir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((file) => ({ file, ...(load(readFileSync(join(dir, file), "utf8")) as Family) }));

function perform<T>(task: Parameters<typeof run>[0]): T {
  const result = run(task);
  if (!result.ok) throw new Error(`task failed: ${JSON.stringify(result)}`);
  return result.value as T;
}

const PROTO_PREAMBLE = 'syntax = "proto3"; package a.v1; ';

function protoText(side: unknown): string {
  if (typeof side === "string") return /^\s*(syntax|edition)\b/.test(side) ? side : PROTO_PREAMBLE + side;
  return JSON.stringify(side);
}

/**
 * AsyncAPI 3.0 pairs: a side with `asyncapi` is a whole document; any other side is the payload
 * schema of the one message of an operation that, with `at: send`, the application sends (its
 * consumers receive it) or, with `at: receive`, it receives (its consumers send it).
 */
function asyncapiDoc(pair: Pair, side: unknown): unknown {
  if (isRecord(side) && "asyncapi" in side) return side;
  return {
    asyncapi: "3.0.0",
    info: { title: "corpus", version: "1" },
    channels: { orders: { address: "orders.created", messages: { created: { payload: side } } } },
    operations: {
      orderCreated: {
        action: pair.at === "receive" ? "receive" : "send",
        channel: { $ref: "#/channels/orders" },
        messages: [{ $ref: "#/channels/orders/messages/created" }],
      },
    },
  };
}
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function text(kind: ContractKind, pair: Pair, which: "before" | "after"): string {
  if (kind === "protobuf") return protoText(pair[which]);
  if (kind === "asyncapi") return JSON.stringify(asyncapiDoc(pair, pair[which]));
  return kind === "graphql" ? String(pair[which]) : JSON.stringify(openapiDoc(pair, pair[which], which));
}

const tally = new Map<string, { pairs: number; agree: number }>();

for (const family of families) {
  t.test(`${family.reference}: ${family.file}`, async (t) => {
    const count = tally.get(family.reference) ?? { pairs: 0, agree: 0 };
    tally.set(family.reference, count);
    for (const [i, pair] of family.pairs.entries()) {
      const name = `#${i + 1} ${pair.rule}${pair.category ? ` under ${pair.category}` : ""} (${pair.level})`;
      const before = perform<ParsedText>({ op: "parse", kind: family.kind, text: text(family.kind, pair, "before") });
      const after = perform<ParsedText>({ op: "parse", kind: family.kind, text: text(family.kind, pair, "after") });
      const view = perform<CompatibilityView>({
        op: "compatibility",
        kind: family.kind,
        policy: "backward",
        candidate: after.normalized,
        history: [{ label: "before", normalized: before.normalized }],
        options: { protobufCategory: pair.category ?? null },
      });
      const levels = new Set(view.changes.map((c) => c.level));
      const verdict: Level = !view.compatible ? "breaking" : levels.has("dangerous") ? "dangerous" : "non-breaking";
      const expected = pair.level;
      count.pairs++;
      const agrees = (expected === "breaking") === (verdict === "breaking");
      if (agrees) count.agree++;
      t.equal(verdict === "breaking" ? "breaking" : "not breaking", expected === "breaking" ? "breaking" : "not breaking", name, {
        changes: view.changes,
      });
      t.equal(verdict, expected, `${name}: level`, { changes: view.changes });
      if (pair.silent) t.same(view.changes, [], `${name}: nothing is reported`);
      else t.ok(view.changes.length > 0, `${name}: the change is reported`);
      for (const c of view.breaking) {
        t.match(c.location, /\S/, `${name}: a breaking change has a location`);
        t.match(c.message, /\w+ \w+/, `${name}: a breaking change has a sentence`);
      }
      if (pair.says)
        t.ok(
          view.changes.some((c) => `${c.location} ${c.message}`.includes(pair.says!)),
          `${name}: says ${pair.says}`,
          { changes: view.changes },
        );
    }
  });
}

t.teardown(() => {
  for (const [reference, { pairs, agree }] of tally) console.log(`# corpus ${reference}: ${agree}/${pairs} agree`);
});
