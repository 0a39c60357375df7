import { createHash } from "node:crypto";
import { CORE_SCHEMA, loadAll, YAMLException, type LoadOptions } from "js-yaml";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { isObject, jsonPath, resolvePointer, type PathPart } from "./contracts.changes.js";
import { contractErrors } from "./contracts.errors.js";
import { parseGraphql } from "./contracts.graphql.js";
import { assertSdlDepth } from "./contracts.limits.js";
import { parseProtobuf } from "./contracts.protobuf.js";
import type { ContractKind } from "./contracts.table.js";

/**
 * Content parsing, validation and normalisation, per kind. A version's identity is the
 * SHA-256 of its normalised text: structured kinds (OpenAPI, AsyncAPI, JSON Schema) as
 * canonical JSON (keys sorted, no whitespace), so YAML and JSON spellings, key order and
 * formatting do not make a new version; GraphQL as the sorted, printed schema; Protocol Buffers
 * as the canonical JSON of what its files declare (`contracts.protobuf.ts`); opaque text
 * with line endings unified and trailing whitespace dropped.
 */

export interface Location {
  line: number;
  column: number;
}

export interface ParsedContent {
  kind: ContractKind;
  /** What the differ compares: plain JSON for structured kinds, a GraphQLSchema, or text. */
  document: unknown;
  normalized: string;
  hash: string;
}

/** Deeper than this is a mistake or a circular YAML alias, never a real interface document. */
const MAX_DEPTH = 256;

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function tooDeep(): never {
  throw contractErrors.invalidContent(`The document is nested more than ${MAX_DEPTH} levels deep (or a YAML alias refers to itself).`, {
    errors: [{ field: "content", reason: "nested too deeply" }],
  });
}

/**
 * Keys sorted at every level, so equal documents have equal text whatever their spelling. This
 * is the definition; `canonicalForm` reaches the same text faster.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) tooDeep();
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k], depth + 1)}`).join(",")}}`;
}

/** An array index as an object key: JavaScript enumerates such keys first, in numeric order. */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;
const isIndexKey = (key: string) => INDEX_KEY.test(key) && Number(key) < 2 ** 32 - 1;

/**
 * A document's canonical JSON and the plain document that text parses back to, in one walk.
 * The walk copies the document with its keys inserted in sorted order and its values as JSON
 * has them (no -0, NaN or Infinity: null), so the native `JSON.stringify` of the copy is the
 * canonical text, and the copy is what `JSON.parse` of that text would give: the copy and the
 * stringify cost about what building the text piece by piece did, and the second parse of
 * megabytes is saved. The one exception
 * is an object whose array-index keys ("200", "404") would not come first in sorted order or
 * not in numeric order (`{"10": …, "9": …}`, `{"2XX": …, "404": …}`): JavaScript enumerates
 * them its own way, so the text is then built by `canonicalJson`.
 */
export function canonicalForm(value: unknown): { document: unknown; normalized: string } {
  let enumeratedAsSorted = true;
  const copy = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) tooDeep();
    if (v === null || v === undefined) return null;
    if (typeof v === "number") return Number.isFinite(v) ? v + 0 : null;
    if (typeof v !== "object") return v;
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = copy(v[i], depth + 1);
      return out;
    }
    const record = v as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    const out: Record<string, unknown> = {};
    let lastIndex = -1;
    let sawName = false;
    for (const key of keys) {
      if (enumeratedAsSorted && key.charCodeAt(0) <= 57 && isIndexKey(key)) {
        const index = Number(key);
        if (sawName || index < lastIndex) enumeratedAsSorted = false;
        lastIndex = index;
      } else sawName = true;
      const item = copy(record[key], depth + 1);
      // `__proto__` is data here, as JSON.parse makes it: an own property, not the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      else out[key] = item;
    }
    return out;
  };
  const document = copy(value, 0);
  return { document, normalized: enumeratedAsSorted ? JSON.stringify(document) : canonicalJson(document) };
}

/** Line and column (1-based) of the value at `path`, or of its nearest ancestor that exists. */
function locate(text: string, path: readonly PathPart[]): Location | null {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
    // A key points at itself rather than at its value.
    const parent = path.length > 0 ? doc.getIn(path.slice(0, -1), true) : null;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === path.at(-1));
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const { line, col } = lineCounter.linePos(range[0]);
        return { line, column: col };
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
  } catch {
    // Locating is a courtesy; the message and path still say what is wrong.
  }
  return null;
}

interface Problem {
  detail: string;
  reason: string;
  path?: readonly PathPart[];
  location?: Location | null;
}

function problemExtra(text: string, p: Problem) {
  const location = p.location !== undefined ? p.location : p.path ? locate(text, p.path) : null;
  return { errors: [{ field: "content", reason: p.reason }], location, path: p.path ? jsonPath(p.path) : null };
}

const invalid = (text: string, p: Problem) => contractErrors.invalidContent(p.detail, problemExtra(text, p));
const mismatch = (text: string, p: Problem) => contractErrors.kindMismatch(p.detail, problemExtra(text, p));
const unsupported = (text: string, p: Problem) => contractErrors.unsupportedVersion(p.detail, problemExtra(text, p));

const SDL_START = /^\s*(?:"""[\s\S]*?"""\s*)?(?:extend\s+)?(?:type|schema|interface|enum|input|scalar|union|directive)\s+[@A-Za-z_{]/;

/**
 * How far aliases may expand a YAML document: to at most twice its own size plus this many
 * nodes. js-yaml shares an aliased node rather than copying it, so parsing stays linear, but
 * every later walk (validation, canonical JSON, the differ) sees the expanded tree, which a
 * "billion laughs" document makes exponential.
 */
const ALIAS_EXPANSION_SLACK = 10_000;

/** Could the text hold an alias (`*name` where a node starts)? A cheap pre-check; false positives only cost a walk. */
const MAY_HOLD_ALIAS = /(?:^|[\s[,{])\*[^\s,[\]{}]/m;

function aliasProblem(reason: string, detail: string) {
  return contractErrors.invalidContent(`The YAML cannot be read: ${detail}`, {
    errors: [{ field: "content", reason }],
    location: null,
    path: null,
  });
}

/** Refuses a document whose aliases refer to themselves or expand it out of proportion. */
function checkAliases(doc: unknown) {
  const expanded = new Map<object, number>();
  const active = new Set<object>();
  let distinct = 0;
  const size = (node: object, depth: number): number => {
    const known = expanded.get(node);
    if (known !== undefined) return known;
    if (active.has(node)) throw aliasProblem("alias refers to itself", "an alias refers to a node that contains it.");
    // As canonicalJson would say later; checked here so that chained aliases cannot overflow the stack.
    if (depth > MAX_DEPTH)
      throw aliasProblem("nested too deeply", `with its aliases expanded, it is nested more than ${MAX_DEPTH} levels deep.`);
    active.add(node);
    const children = Array.isArray(node) ? node : Object.values(node);
    distinct += children.length;
    let total = children.length;
    for (const child of children) if (typeof child === "object" && child !== null) total += size(child, depth + 1);
    active.delete(node);
    expanded.set(node, total);
    return total;
  };
  if (typeof doc === "object" && doc !== null && size(doc, 0) > 2 * distinct + ALIAS_EXPANSION_SLACK) {
    throw aliasProblem("excessive aliasing", "its aliases expand it far beyond its own size (an entity-expansion attack?).");
  }
}

/** YAML 1.2 core schema (no timestamps, no `<<` merges, as the `yaml` package's defaults); `maxDepth` is js-yaml's own (not in its types). */
const YAML_OPTIONS = { schema: CORE_SCHEMA, maxDepth: MAX_DEPTH } as LoadOptions;

/** Line and column (1-based) of the separator that starts a second YAML document, if it can be found. */
function secondDocument(text: string): Location | null {
  const markers = [...text.matchAll(/^(?:---|\.\.\.)(?=\s|$)/gm)];
  const first = markers[0];
  if (!first) return null;
  // Content before the first marker makes it the separator; otherwise it opens the first document.
  const before = text
    .slice(0, first.index)
    .replace(/^\s*(?:#.*|%.*)?$/gm, "")
    .trim();
  const separator = before ? first : markers.find((m, i) => i > 0 && text[m.index] === "-");
  if (!separator) return null;
  return { line: text.slice(0, separator.index).split("\n").length, column: 1 };
}

/**
 * JSON (fast path) or YAML 1.2 (js-yaml, core schema: what the `yaml` package's defaults
 * resolve to: no timestamps, no `<<` merges); errors carry the parser's message and position.
 */
function parseStructured(text: string): unknown {
  const start = text.trimStart()[0];
  if (start === "{" || start === "[") {
    try {
      return JSON.parse(text);
    } catch {
      // YAML is a superset of JSON: its parser accepts what it can and locates what it cannot.
    }
  }
  let docs: unknown[];
  try {
    docs = loadAll(text, null, YAML_OPTIONS);
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    // js-yaml counts lines and columns from 0.
    const location = err.mark ? { line: err.mark.line + 1, column: err.mark.column + 1 } : null;
    const message = err.reason || err.message.split("\n")[0]!;
    throw contractErrors.invalidContent(
      `The content is not valid JSON or YAML: ${message}${location ? ` (line ${location.line}, column ${location.column})` : ""}.`,
      {
        errors: [{ field: "content", reason: message }],
        location,
        path: null,
      },
    );
  }
  if (docs.length > 1) {
    const location = secondDocument(text);
    throw contractErrors.invalidContent(
      `The content holds ${docs.length} YAML documents${location ? ` (the second starts at line ${location.line})` : ""}; publish one document.`,
      {
        errors: [{ field: "content", reason: "more than one YAML document" }],
        location,
        path: null,
      },
    );
  }
  const doc = docs[0] ?? null;
  if (MAY_HOLD_ALIAS.test(text)) checkAliases(doc);
  return doc;
}

/** Every `$ref` in the document with where it is. */
function collectRefs(doc: unknown): { path: PathPart[]; ref: unknown }[] {
  // Paths are kept as parent links and spelled out only for the references found: a large
  // document has hundreds of thousands of nodes and a few thousand references.
  interface Frame {
    value: object;
    parent: Frame | null;
    key: PathPart;
  }
  const pathOf = (frame: Frame | null, last: PathPart) => {
    const path: PathPart[] = [last];
    for (let f = frame; f?.parent; f = f.parent) path.push(f.key);
    return path.reverse();
  };
  const refs: { path: PathPart[]; ref: unknown }[] = [];
  if (typeof doc !== "object" || doc === null) return refs;
  const stack: Frame[] = [{ value: doc, parent: null, key: "" }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const value = frame.value;
    // Plain loops: this visits every node of megabytes of document, and an entries array per
    // object was a good part of a publish's garbage.
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === "object" && v !== null) stack.push({ value: v, parent: frame, key: i });
      }
    } else {
      const record = value as Record<string, unknown>;
      for (const k in record) {
        if (!Object.hasOwn(record, k)) continue;
        const v = record[k];
        if (k === "$ref" && (typeof v === "string" || !isObject(v))) refs.push({ path: pathOf(frame, k), ref: v });
        else if (typeof v === "object" && v !== null) stack.push({ value: v, parent: frame, key: k });
      }
    }
  }
  return refs;
}

/**
 * `$ref`s must be local JSON pointers that resolve. Brigade never fetches a URL or reads a file
 * a `$ref` names (that would let a document make the server issue requests), so a document
 * with outside references is refused: bundle it first.
 */
function checkRefs(text: string, doc: unknown) {
  const resolved = new Set<string>();
  for (const { path, ref } of collectRefs(doc)) {
    if (typeof ref === "string" && resolved.has(ref)) continue;
    if (typeof ref !== "string")
      throw invalid(text, { detail: `${jsonPath(path)} must be a string.`, reason: "$ref is not a string", path });
    if (!ref.startsWith("#")) {
      throw contractErrors.externalRef(
        `${jsonPath(path)} refers to "${ref.slice(0, 200)}", outside this document. Brigade never fetches references: bundle the document into one file (e.g. \`redocly bundle\` or \`swagger-cli bundle\`) and publish that.`,
        problemExtra(text, { detail: "", reason: "external $ref", path }),
      );
    }
    if ((ref === "#" || ref.startsWith("#/")) && resolvePointer(doc, ref) === undefined) {
      throw invalid(text, {
        detail: `${jsonPath(path)} refers to "${ref.slice(0, 200)}", which is not in the document.`,
        reason: "unresolvable $ref",
        path,
      });
    }
    resolved.add(ref);
  }
}

const looksLikeJsonSchema = (doc: Record<string, unknown>) =>
  "$schema" in doc || ("type" in doc && ("properties" in doc || "items" in doc));

function otherKindOf(doc: unknown): string | null {
  if (!isObject(doc)) return null;
  if ("openapi" in doc || "swagger" in doc) return "an OpenAPI (or Swagger) document";
  if ("asyncapi" in doc) return "an AsyncAPI document";
  return null;
}

function checkOpenApi(text: string, doc: unknown) {
  if (!isObject(doc)) throw invalid(text, { detail: "An OpenAPI document must be an object.", reason: "not an object", path: [] });
  if ("swagger" in doc) {
    throw unsupported(text, {
      detail: "Swagger 2.0 is not supported: convert the document to OpenAPI 3.0 or 3.1 (e.g. with swagger2openapi).",
      reason: "swagger 2.0",
      path: ["swagger"],
    });
  }
  if (typeof doc.openapi !== "string") {
    if ("asyncapi" in doc)
      throw mismatch(text, {
        detail: "The content is an AsyncAPI document, but this contract's kind is openapi.",
        reason: "kind mismatch",
        path: ["asyncapi"],
      });
    if (looksLikeJsonSchema(doc))
      throw mismatch(text, {
        detail: "The content looks like a JSON Schema, but this contract's kind is openapi.",
        reason: "kind mismatch",
        path: [],
      });
    throw invalid(text, {
      detail: 'Not an OpenAPI document: the `openapi` version field (e.g. "3.0.3") is missing.',
      reason: "missing openapi",
      path: [],
    });
  }
  if (!/^3\.[01]\.\d+/.test(doc.openapi)) {
    throw unsupported(text, {
      detail: `OpenAPI ${doc.openapi} is not supported: use 3.0.x or 3.1.x.`,
      reason: "unsupported openapi version",
      path: ["openapi"],
    });
  }
  if (!isObject(doc.info))
    throw invalid(text, {
      detail: "An OpenAPI document needs an `info` object.",
      reason: "missing info",
      path: doc.info === undefined ? [] : ["info"],
    });
  if (doc.paths === undefined && doc.openapi.startsWith("3.0"))
    throw invalid(text, { detail: "An OpenAPI 3.0 document needs a `paths` object.", reason: "missing paths", path: [] });
  if (doc.paths !== undefined) {
    if (!isObject(doc.paths))
      throw invalid(text, { detail: "`paths` must be an object.", reason: "paths is not an object", path: ["paths"] });
    for (const [key, item] of Object.entries(doc.paths)) {
      if (!key.startsWith("/") && !key.startsWith("x-"))
        throw invalid(text, {
          detail: `Path "${key.slice(0, 200)}" must start with "/".`,
          reason: "path must start with /",
          path: ["paths", key],
        });
      if (!isObject(item))
        throw invalid(text, {
          detail: `${jsonPath(["paths", key])} must be an object.`,
          reason: "path item is not an object",
          path: ["paths", key],
        });
    }
  }
  if (doc.components !== undefined && !isObject(doc.components))
    throw invalid(text, { detail: "`components` must be an object.", reason: "components is not an object", path: ["components"] });
}

function checkAsyncApi(text: string, doc: unknown) {
  if (!isObject(doc)) throw invalid(text, { detail: "An AsyncAPI document must be an object.", reason: "not an object", path: [] });
  if (typeof doc.asyncapi !== "string") {
    const other = otherKindOf(doc);
    if (other)
      throw mismatch(text, { detail: `The content is ${other}, but this contract's kind is asyncapi.`, reason: "kind mismatch", path: [] });
    if (looksLikeJsonSchema(doc))
      throw mismatch(text, {
        detail: "The content looks like a JSON Schema, but this contract's kind is asyncapi.",
        reason: "kind mismatch",
        path: [],
      });
    throw invalid(text, {
      detail: 'Not an AsyncAPI document: the `asyncapi` version field (e.g. "2.6.0") is missing.',
      reason: "missing asyncapi",
      path: [],
    });
  }
  if (!/^(2\.\d+|3\.0)\.\d+/.test(doc.asyncapi)) {
    throw unsupported(text, {
      detail: `AsyncAPI ${doc.asyncapi} is not supported: the differ understands AsyncAPI 2.x and 3.0.`,
      reason: "unsupported asyncapi version",
      path: ["asyncapi"],
    });
  }
  if (!isObject(doc.info))
    throw invalid(text, {
      detail: "An AsyncAPI document needs an `info` object.",
      reason: "missing info",
      path: doc.info === undefined ? [] : ["info"],
    });
  if (doc.asyncapi.startsWith("3.")) {
    checkAsyncApi3(text, doc);
    return;
  }
  if (!isObject(doc.channels))
    throw invalid(text, {
      detail: "An AsyncAPI document needs a `channels` object.",
      reason: "missing channels",
      path: doc.channels === undefined ? [] : ["channels"],
    });
}

/** AsyncAPI 3.0: channels and operations are optional maps; an operation sends or receives on a channel it references. */
function checkAsyncApi3(text: string, doc: Record<string, unknown>) {
  for (const section of ["channels", "operations"]) {
    if (doc[section] !== undefined && !isObject(doc[section]))
      throw invalid(text, { detail: `\`${section}\` must be an object.`, reason: `${section} is not an object`, path: [section] });
  }
  for (const [id, op] of Object.entries(isObject(doc.operations) ? doc.operations : {})) {
    if (!isObject(op))
      throw invalid(text, {
        detail: `${jsonPath(["operations", id])} must be an object.`,
        reason: "operation is not an object",
        path: ["operations", id],
      });
    if (typeof op.$ref === "string") continue;
    if (op.action !== "send" && op.action !== "receive")
      throw invalid(text, {
        detail: `${jsonPath(["operations", id, "action"])} must be "send" or "receive".`,
        reason: "invalid action",
        path: ["operations", id, "action"],
      });
    if (!isObject(op.channel) || typeof op.channel.$ref !== "string")
      throw invalid(text, {
        detail: `${jsonPath(["operations", id, "channel"])} must be a $ref to a channel.`,
        reason: "missing channel",
        path: ["operations", id, "channel"],
      });
  }
}

const JSON_TYPES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_ONE = [
  "items",
  "additionalProperties",
  "additionalItems",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
];

/** The JSON Schema keywords whose shape is fixed, checked everywhere a subschema can be. */
function checkSchemaNode(text: string, node: unknown, path: PathPart[], depth: number) {
  if (typeof node === "boolean") return;
  if (!isObject(node))
    throw invalid(text, { detail: `${jsonPath(path)} must be a schema (an object or a boolean).`, reason: "not a schema", path });
  if (depth > MAX_DEPTH) return;
  const at = (k: PathPart) => [...path, k];
  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? node.type : [node.type];
    const bad = types.find((t) => typeof t !== "string" || !JSON_TYPES.has(t));
    if (bad !== undefined || types.length === 0)
      throw invalid(text, {
        detail: `${jsonPath(at("type"))} must name JSON types (${[...JSON_TYPES].join(", ")}).`,
        reason: "invalid type",
        path: at("type"),
      });
  }
  if (
    node.required !== undefined &&
    typeof node.required !== "boolean" &&
    (!Array.isArray(node.required) || node.required.some((r) => typeof r !== "string"))
  ) {
    throw invalid(text, {
      detail: `${jsonPath(at("required"))} must be an array of property names.`,
      reason: "invalid required",
      path: at("required"),
    });
  }
  if (node.enum !== undefined && !Array.isArray(node.enum))
    throw invalid(text, { detail: `${jsonPath(at("enum"))} must be an array.`, reason: "invalid enum", path: at("enum") });
  for (const key of SCHEMA_MAPS) {
    const value = node[key];
    if (value === undefined) continue;
    if (!isObject(value))
      throw invalid(text, { detail: `${jsonPath(at(key))} must be an object of schemas.`, reason: `invalid ${key}`, path: at(key) });
    for (const [name, sub] of Object.entries(value)) checkSchemaNode(text, sub, [...path, key, name], depth + 1);
  }
  for (const key of SCHEMA_LISTS) {
    const value = node[key];
    if (value === undefined) continue;
    if (!Array.isArray(value))
      throw invalid(text, { detail: `${jsonPath(at(key))} must be an array of schemas.`, reason: `invalid ${key}`, path: at(key) });
    value.forEach((sub, i) => checkSchemaNode(text, sub, [...path, key, i], depth + 1));
  }
  for (const key of SCHEMA_ONE) {
    const value = node[key];
    if (value === undefined) continue;
    if (key === "items" && Array.isArray(value)) value.forEach((sub, i) => checkSchemaNode(text, sub, [...path, key, i], depth + 1));
    else checkSchemaNode(text, value, at(key), depth + 1);
  }
}

function checkJsonSchema(text: string, doc: unknown) {
  const other = otherKindOf(doc);
  if (other)
    throw mismatch(text, { detail: `The content is ${other}, but this contract's kind is jsonschema.`, reason: "kind mismatch", path: [] });
  if (typeof doc !== "boolean" && !isObject(doc))
    throw invalid(text, { detail: "A JSON Schema must be an object (or a boolean).", reason: "not a schema", path: [] });
  if (isObject(doc) && doc.$schema !== undefined && typeof doc.$schema !== "string")
    throw invalid(text, { detail: "`$schema` must be a URI string.", reason: "invalid $schema", path: ["$schema"] });
  checkSchemaNode(text, doc, [], 0);
}

/** For a structured kind whose text did not parse into an object: is it SDL sent to the wrong contract? */
function notAnObject(text: string, kind: ContractKind, doc: unknown) {
  if (SDL_START.test(text))
    return mismatch(text, {
      detail: `The content looks like GraphQL SDL, but this contract's kind is ${kind}.`,
      reason: "kind mismatch",
      location: null,
    });
  return invalid(text, {
    detail: `The content must be a JSON or YAML object; it parsed as ${Array.isArray(doc) ? "an array" : doc === null ? "nothing" : `a ${typeof doc}`}.`,
    reason: "not an object",
    location: null,
  });
}

/** Parses, validates and normalises content of a kind; throws a 422 problem saying where it is wrong. */
export function parseContent(kind: ContractKind, text: string): ParsedContent {
  if (kind === "opaque") {
    const normalized = text.replace(/\r\n?/g, "\n").replace(/\s+$/, "");
    return { kind, document: normalized, normalized, hash: sha256(normalized) };
  }
  if (kind === "protobuf") {
    if (/^\s*(openapi|asyncapi|swagger|\$schema)\s*:/m.test(text))
      throw mismatch(text, {
        detail: "The content looks like YAML, but this contract's kind is protobuf (.proto text, or a JSON object of path → .proto text).",
        reason: "kind mismatch",
        location: null,
      });
    const model = parseProtobuf(text);
    // The model is built with its keys in canonical order: its JSON is its canonical JSON.
    const normalized = JSON.stringify(model);
    return { kind, document: model, normalized, hash: sha256(normalized) };
  }
  if (kind === "graphql") {
    if (/^\s*[{[]/.test(text) || /^\s*(openapi|asyncapi|swagger|\$schema)\s*:/m.test(text)) {
      throw mismatch(text, {
        detail: "The content looks like JSON or YAML, but this contract's kind is graphql (SDL expected).",
        reason: "kind mismatch",
        location: null,
      });
    }
    assertSdlDepth(text);
    const { schema, normalized } = parseGraphql(text);
    return { kind, document: schema, normalized, hash: sha256(normalized) };
  }
  let doc: unknown;
  try {
    doc = parseStructured(text);
  } catch (err) {
    if (SDL_START.test(text))
      throw mismatch(text, {
        detail: `The content looks like GraphQL SDL, but this contract's kind is ${kind}.`,
        reason: "kind mismatch",
        location: null,
      });
    throw err;
  }
  if (kind !== "jsonschema" && !isObject(doc)) throw notAnObject(text, kind, doc);
  if (kind === "jsonschema" && typeof doc !== "boolean" && !isObject(doc)) throw notAnObject(text, kind, doc);
  if (kind === "openapi") checkOpenApi(text, doc);
  else if (kind === "asyncapi") checkAsyncApi(text, doc);
  else checkJsonSchema(text, doc);
  checkRefs(text, doc);
  // The differ sees exactly what a later diff of the stored version will see: the document its
  // normalised text parses to.
  const { document, normalized } = canonicalForm(doc);
  return { kind, document, normalized, hash: sha256(normalized) };
}

/** The document of a stored version, from its normalised text (already validated). */
export function documentOf(kind: ContractKind, normalized: string): unknown {
  if (kind === "opaque") return normalized;
  if (kind === "graphql") return parseGraphql(normalized).schema;
  // protobuf: the model itself, as JSON (never the .proto text again).
  return JSON.parse(normalized);
}
