import { isObject, resolvePointer, type ChangeLevel, type PathPart } from "./contracts.changes.js";

/**
 * OpenAPI classification rules, after oasdiff's (its rule ids are in each rule's name; ERR is
 * breaking, WARN dangerous, INFO non-breaking). `api-smart-diff` finds the changes, resolving
 * `$ref`s and reporting each change where it is used; these rules then judge each change from
 * where it is and what it did, looking at both documents:
 *
 * - direction: a request (parameters, request body) breaks when what it accepts narrows, a
 *   response (bodies, headers) when what it may send widens. In callbacks and webhooks the
 *   provider sends the request, so their directions are swapped;
 * - a read-only property in a request, or a write-only one in a response, is never sent there,
 *   so its changes break no one.
 *
 * A change no rule judges keeps the differ's own level.
 */

export type Direction = "request" | "response";

export interface RuleInput {
  path: readonly PathPart[];
  action: "add" | "remove" | "replace" | "rename";
  before: unknown;
  after: unknown;
  /** The documents compared (parsed JSON, `$ref`s not resolved). */
  docs: { before: unknown; after: unknown };
  /** Today, `YYYY-MM-DD`, for sunset dates. */
  today: string;
}

export interface Verdict {
  level: ChangeLevel;
  /** The rule that decided, named after the oasdiff rule it follows. */
  rule: string;
}

type Json = Record<string, unknown>;
const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * The differ numbers an operation's parameters across both documents: those of the document
 * diffed from in their order, then those only the other one has. A diff path's parameter index
 * is rewritten to the index the same parameter (by name and location) has in one document.
 */
function sidePath(docs: RuleInput["docs"], side: "before" | "after", path: readonly PathPart[]): readonly PathPart[] {
  const i = path.indexOf("parameters");
  if (i < 0 || typeof path[i + 1] !== "number") return path;
  const list = (doc: unknown) => {
    const params = nodeAt(doc, path.slice(0, i + 1));
    return (Array.isArray(params) ? params : []).map((p) => deref(doc, p)).map((p) => (isObject(p) ? `${p.in} ${p.name}` : ""));
  };
  const before = list(docs.before);
  const merged = [...before, ...list(docs.after).filter((k) => !before.includes(k))];
  const index = (side === "before" ? before : list(docs.after)).indexOf(merged[path[i + 1] as number] ?? "");
  return [...path.slice(0, i + 1), index < 0 ? -1 : index, ...path.slice(i + 2)];
}

/** The node at a diff path in one of the documents compared. */
const at = (input: Pick<RuleInput, "docs">, side: "before" | "after", path: readonly PathPart[]): unknown =>
  nodeAt(input.docs[side], sidePath(input.docs, side, path));

/** The parameter a diff path is in (`in name`), found in whichever document has it. */
export function parameterAt(docs: RuleInput["docs"], path: readonly PathPart[]): { in: string; name: string } | null {
  const i = path.indexOf("parameters");
  if (i < 0 || typeof path[i + 1] !== "number") return null;
  for (const side of ["before", "after"] as const) {
    const p = at({ docs }, side, path.slice(0, i + 2));
    if (isObject(p) && typeof p.name === "string") return { in: String(p.in), name: p.name };
  }
  return null;
}

/** The node at a diff path, following local `$ref`s on the way (as the differ does). */
export function nodeAt(doc: unknown, path: readonly PathPart[]): unknown {
  let node = deref(doc, doc);
  for (const part of path) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = node[String(part)];
    else return undefined;
    node = deref(doc, node);
  }
  return node;
}

function deref(doc: unknown, node: unknown): unknown {
  for (let i = 0; i < 32 && isObject(node) && typeof node.$ref === "string" && node.$ref.startsWith("#"); i++)
    node = resolvePointer(doc, node.$ref);
  return node;
}

/** request or response, as the consumer of the document sees it; null outside operations. */
export function directionOf(path: readonly PathPart[]): Direction | null {
  let direction: Direction | null = null;
  let swapped = path[0] === "webhooks";
  for (const part of path) {
    if (part === "callbacks") {
      swapped = !swapped;
      direction = null;
    } else if (direction === null && (part === "parameters" || part === "requestBody")) direction = "request";
    else if (direction === null && part === "responses") direction = "response";
  }
  if (direction === null) return null;
  return swapped ? (direction === "request" ? "response" : "request") : direction;
}

const narrowing = (d: Direction): ChangeLevel => (d === "request" ? "breaking" : "non-breaking");
const widening = (d: Direction): ChangeLevel => (d === "request" ? "non-breaking" : "breaking");

/** Index just past the last `schema` (or `items`/`headers` schema) key: where the schema begins. */
function schemaStart(path: readonly PathPart[]): number {
  const i = path.lastIndexOf("schema");
  return i < 0 ? -1 : i + 1;
}

/** The types a schema admits (3.0 `nullable` and 3.1 type lists alike); null when it says none. */
function typesOf(schema: unknown): Set<string> | null {
  if (!isObject(schema)) return null;
  const t = schema.type;
  const types = new Set<string>(Array.isArray(t) ? t.map(String) : typeof t === "string" ? [t] : []);
  if (types.size === 0) return null;
  if (schema.nullable === true) types.add("null");
  return types;
}

/** Does `outer` admit every value `inner` does (an integer is a number)? */
function covers(outer: Set<string>, inner: Set<string>): boolean {
  for (const t of inner) if (!outer.has(t) && !(t === "integer" && outer.has("number"))) return false;
  return true;
}

/** The property schema a schema path is inside of (`...properties.name`), in one document. */
function enclosingProperty(input: RuleInput, side: "before" | "after", start: number): Json | undefined {
  const { path } = input;
  for (let i = path.length - 2; i >= start; i--) {
    if (path[i] === "properties") {
      const node = at(input, side, path.slice(0, i + 2));
      return isObject(node) ? node : undefined;
    }
  }
  return undefined;
}

/** A property that is never sent in this direction: read-only in requests, write-only in responses. */
function notSent(schema: unknown, direction: Direction): boolean {
  return isObject(schema) && (direction === "request" ? schema.readOnly === true : schema.writeOnly === true);
}

/** The schema that holds keyword `path[k]`. */
const holder = (input: RuleInput, k: number, side: "before" | "after") => at(input, side, input.path.slice(0, k));

type Rule = (input: RuleInput) => Verdict | null;

// ---- paths, operations, webhooks -------------------------------------------------------

/** A removed operation is fine once deprecated and past its sunset (or without one). */
function removalOfDeprecated(op: unknown, today: string): boolean {
  if (!isObject(op) || op.deprecated !== true) return false;
  const sunset = op["x-sunset"];
  return typeof sunset !== "string" || sunset.slice(0, 10) <= today;
}

const operationRemoved: Rule = ({ path, action, before, today }) => {
  if (path[0] !== "paths" || action !== "remove") return null;
  if (path.length === 2) {
    const ops = isObject(before) ? Object.entries(before).filter(([k]) => METHODS.has(k)) : [];
    const ok = ops.length > 0 && ops.every(([, op]) => removalOfDeprecated(op, today));
    return {
      level: ok ? "non-breaking" : "breaking",
      rule: ok ? "api-path-removed-with-deprecation" : "api-path-removed-without-deprecation",
    };
  }
  if (path.length === 3 && METHODS.has(String(path[2]))) {
    const ok = removalOfDeprecated(before, today);
    return { level: ok ? "non-breaking" : "breaking", rule: ok ? "api-removed-with-deprecation" : "api-removed-without-deprecation" };
  }
  return null;
};

const webhookChanged: Rule = ({ path, action }) => {
  if (path[0] !== "webhooks" || path.length > 3) return null;
  if (path.length === 3 && !METHODS.has(String(path[2]))) return null;
  if (action === "remove") return { level: "breaking", rule: "webhook-removed" };
  if (action === "add") return { level: "non-breaking", rule: "webhook-added" };
  return null;
};

/** A callback, or one of its operations, removed: the provider stops calling; added: it starts. */
const callbackChanged: Rule = ({ path, action }) => {
  const i = path.lastIndexOf("callbacks");
  if (i < 0 || path.length > i + 4 || (path.length === i + 4 && !METHODS.has(String(path[i + 3])))) return null;
  if (action === "remove") return { level: "breaking", rule: "api-removed-without-deprecation (callback)" };
  if (action === "add") return { level: "non-breaking", rule: "endpoint-added (callback)" };
  return null;
};

const statusChanged: Rule = ({ path, action }) => {
  const i = path.indexOf("responses");
  if (i < 0 || path.length !== i + 2 || directionOf(path) !== "response") return null;
  const success = /^2/.test(String(path[i + 1]));
  if (action === "remove")
    return success
      ? { level: "breaking", rule: "response-success-status-removed" }
      : { level: "non-breaking", rule: "response-non-success-status-removed" };
  if (action === "add")
    return { level: "non-breaking", rule: success ? "response-success-status-added" : "response-non-success-status-added" };
  return null;
};

// ---- parameters and request bodies -------------------------------------------------------

const requiredParameter = (p: unknown) => isObject(p) && (p.required === true || p.in === "path");

const parameterAddedOrRemoved: Rule = (input) => {
  const { path, action } = input;
  const i = path.lastIndexOf("parameters");
  if (i < 0 || directionOf(path) !== "request") return null;
  if (path.length === i + 1) {
    // The whole list: judge its members.
    const doc = input.docs[action === "remove" ? "before" : "after"];
    const list = action === "remove" ? input.before : input.after;
    const items = Array.isArray(list) ? list.map((p) => deref(doc, p)) : [];
    if (action === "add")
      return items.some(requiredParameter)
        ? { level: "breaking", rule: "new-required-request-parameter" }
        : { level: "non-breaking", rule: "new-optional-request-parameter" };
    if (action === "remove") return removedParameters(items);
    return null;
  }
  if (path.length !== i + 2) return null;
  // The differ numbers parameters across both lists, so the index may not be in either document.
  const doc = input.docs[action === "remove" ? "before" : "after"];
  const param = deref(doc, action === "remove" ? input.before : input.after);
  if (action === "add")
    return requiredParameter(param)
      ? { level: "breaking", rule: "new-required-request-parameter" }
      : { level: "non-breaking", rule: "new-optional-request-parameter" };
  if (action === "remove") return removedParameters([param]);
  return null;
};

function removedParameters(params: unknown[]): Verdict {
  return params.every((p) => isObject(p) && p.deprecated === true)
    ? { level: "non-breaking", rule: "request-parameter-removed-with-deprecation" }
    : { level: "dangerous", rule: "request-parameter-removed" };
}

/** style and explode as in effect (the defaults written out are no change). */
function serialization(p: unknown): string {
  if (!isObject(p)) return "";
  const style = typeof p.style === "string" ? p.style : p.in === "query" || p.in === "cookie" ? "form" : "simple";
  const explode = typeof p.explode === "boolean" ? p.explode : style === "form";
  return `${style}/${explode}`;
}

const parameterSerialization: Rule = (input) => {
  const { path } = input;
  const key = path.at(-1);
  if ((key !== "style" && key !== "explode") || path.at(-3) !== "parameters") return null;
  const a = at(input, "before", path.slice(0, -1));
  const b = at(input, "after", path.slice(0, -1));
  return serialization(a) === serialization(b)
    ? { level: "non-breaking", rule: "request-parameter-serialization-unchanged" }
    : { level: "breaking", rule: `request-parameter-${key}-changed` };
};

const requestBodyAdded: Rule = ({ path, action, after }) => {
  if (path.at(-1) !== "requestBody" || action !== "add" || directionOf(path) !== "request") return null;
  return isObject(after) && after.required === true
    ? { level: "breaking", rule: "request-body-added-required" }
    : { level: "non-breaking", rule: "request-body-added-optional" };
};

/** A media type removed: a client sending or reading it breaks (both directions, as oasdiff). */
const mediaTypeChanged: Rule = ({ path, action }) => {
  const direction = directionOf(path);
  if (!direction || path.at(-2) !== "content" || path.lastIndexOf("schema") > path.lastIndexOf("content")) return null;
  if (action === "remove") return { level: "breaking", rule: `${direction}-media-type-removed` };
  if (action === "add") return { level: "non-breaking", rule: `${direction}-media-type-added` };
  return null;
};

// ---- response headers ----------------------------------------------------------------------

const headerRemoved: Rule = (input) => {
  const { path, action } = input;
  if (action !== "remove" || directionOf(path) !== "response") return null;
  const i = path.lastIndexOf("headers");
  if (i < 0 || i < path.lastIndexOf("schema") || path.length > i + 2) return null;
  const removed = at(input, "before", path);
  const headers =
    path.length === i + 1 ? (isObject(removed) ? Object.keys(removed).map((k) => at(input, "before", [...path, k])) : []) : [removed];
  return headers.some((h) => isObject(h) && h.required === true)
    ? { level: "breaking", rule: "required-response-header-removed" }
    : { level: "dangerous", rule: "optional-response-header-removed" };
};

const headerRequired: Rule = ({ path, action, before, after }) => {
  if (path.at(-1) !== "required" || path.at(-3) !== "headers" || directionOf(path) !== "response") return null;
  const was = action !== "add" && before === true;
  const is = action !== "remove" && after === true;
  if (was && !is) return { level: "breaking", rule: "response-header-became-optional" };
  return { level: "non-breaking", rule: "response-header-became-required" };
};

// ---- security ------------------------------------------------------------------------------

const securityChanged: Rule = ({ path, action }) => {
  const i = path.lastIndexOf("security");
  if (i < 0 || (i !== 0 && !(path[0] === "paths" && i === 3))) return null;
  const scope = path.length === i + 4 || (path.length === i + 3 && action !== "replace");
  if (path.length === i + 2 || path.length === i + 1) {
    if (action === "remove") return { level: "breaking", rule: i === 0 ? "api-global-security-removed" : "api-security-removed" };
    if (action === "add") return { level: "non-breaking", rule: i === 0 ? "api-global-security-added" : "api-security-added" };
  }
  if (scope) {
    if (action === "add") return { level: "breaking", rule: i === 0 ? "api-global-security-scope-added" : "api-security-scope-added" };
    if (action === "remove")
      return { level: "non-breaking", rule: i === 0 ? "api-global-security-scope-removed" : "api-security-scope-removed" };
  }
  return null;
};

/** Security schemes are judged where operations require them, not where they are declared. */
const securitySchemeChanged: Rule = ({ path }) =>
  path[0] === "components" && path[1] === "securitySchemes" ? { level: "non-breaking", rule: "api-security-component-changed" } : null;

// ---- schemas ---------------------------------------------------------------------------------

/** What a schema keyword change means, given the direction; null when this is not one. */
type SchemaRule = (input: RuleInput, direction: Direction, k: number) => Verdict | null;

const num = (v: unknown) => (typeof v === "number" ? v : undefined);

const UPPER = new Set(["maxLength", "maximum", "maxItems", "maxProperties", "exclusiveMaximum"]);
const LOWER = new Set(["minLength", "minimum", "minItems", "minProperties", "exclusiveMinimum"]);
const kebab = (s: string) =>
  s
    .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
    .replace("maximum", "max")
    .replace("minimum", "min");

/** Bounds: an upper bound lowered or a lower bound raised narrows; set where there was none, oasdiff warns. */
const bounds: SchemaRule = ({ path, action, before, after }, direction, k) => {
  const key = String(path[k]);
  const upper = UPPER.has(key);
  if (!upper && !LOWER.has(key)) return null;
  const a = num(before);
  const b = num(after);
  const name = kebab(key);
  if (typeof before === "boolean" || typeof after === "boolean") {
    // OpenAPI 3.0's boolean exclusiveMaximum/exclusiveMinimum: set narrows, unset widens.
    const tightened = action !== "remove" && after === true && before !== true;
    return { level: tightened ? narrowing(direction) : widening(direction), rule: `${direction}-${name}-changed` };
  }
  if (action === "add" || a === undefined) {
    // minLength has a floor of 0, so setting it raises it.
    if (key === "minLength") return b ? { level: narrowing(direction), rule: `${direction}-property-min-length-increased` } : null;
    return direction === "request"
      ? { level: "dangerous", rule: `request-property-${name}-set` }
      : { level: "non-breaking", rule: `response-property-${name}-set` };
  }
  if (action === "remove" || b === undefined) return { level: widening(direction), rule: `${direction}-property-${name}-unset` };
  const tighter = upper ? b < a : b > a;
  return tighter
    ? { level: narrowing(direction), rule: `${direction}-property-${name}-${upper ? "decreased" : "increased"}` }
    : { level: widening(direction), rule: `${direction}-property-${name}-${upper ? "increased" : "decreased"}` };
};

const GENERAL_PATTERNS = new Set(["", ".*", "^.*$", "^.*", ".*$", "[\\s\\S]*", "^[\\s\\S]*$"]);

const pattern: SchemaRule = ({ path, action, after }, direction, k) => {
  if (path[k] !== "pattern" || path.length !== k + 1) return null;
  if (direction === "response")
    return {
      level: "non-breaking",
      rule: `response-property-pattern-${action === "add" ? "added" : action === "remove" ? "removed" : "changed"}`,
    };
  if (action === "add") return { level: "breaking", rule: "request-property-pattern-added" };
  if (action === "remove") return { level: "non-breaking", rule: "request-property-pattern-removed" };
  return GENERAL_PATTERNS.has(String(after))
    ? { level: "non-breaking", rule: "request-property-pattern-generalized" }
    : { level: "dangerous", rule: "request-property-pattern-changed" };
};

/** type, nullable and 3.1 type lists: what the schema admits narrowed or widened. */
const types: SchemaRule = (input, direction, k) => {
  const key = input.path[k];
  if ((key !== "type" && key !== "nullable") || !(input.path.length === k + 1 || (key === "type" && input.path.length === k + 2)))
    return null;
  const a = typesOf(holder(input, k, "before"));
  const b = typesOf(holder(input, k, "after"));
  if (!a || !b) return { level: "breaking", rule: `${direction}-property-type-changed` };
  const narrowed = !covers(b, a);
  const widened = !covers(a, b);
  if (narrowed && widened) return { level: "breaking", rule: `${direction}-property-type-changed` };
  if (narrowed)
    return {
      level: narrowing(direction),
      rule: `${direction}-property-${key === "nullable" ? "became-not-nullable" : "type-specialized"}`,
    };
  if (widened)
    return { level: widening(direction), rule: `${direction}-property-${key === "nullable" ? "became-nullable" : "type-generalized"}` };
  return { level: "non-breaking", rule: `${direction}-property-type-unchanged` };
};

const format: SchemaRule = ({ path, action }, direction, k) => {
  if (path[k] !== "format" || path.length !== k + 1) return null;
  if (action === "replace") return { level: "breaking", rule: `${direction}-property-type-changed (format)` };
  return {
    level: action === "add" ? narrowing(direction) : widening(direction),
    rule: `${direction}-property-format-${action === "add" ? "added" : "removed"}`,
  };
};

const asList = (v: unknown) => (Array.isArray(v) ? v.map((x) => JSON.stringify(x)) : null);

const enumValues: SchemaRule = (input, direction, k) => {
  if (input.path[k] !== "enum") return null;
  const a = asList(at(input, "before", input.path.slice(0, k + 1)));
  const b = asList(at(input, "after", input.path.slice(0, k + 1)));
  if (!a && b) return { level: narrowing(direction), rule: `${direction}-property-became-enum` };
  if (a && !b) return { level: widening(direction), rule: `${direction}-property-became-not-enum` };
  const removed = (a ?? []).some((v) => !b!.includes(v));
  const added = (b ?? []).some((v) => !a!.includes(v));
  if (removed && direction === "request") return { level: "breaking", rule: "request-property-enum-value-removed" };
  if (added && direction === "response") return { level: "dangerous", rule: "response-property-enum-value-added" };
  return { level: "non-breaking", rule: `${direction}-property-enum-value-${added ? "added" : "removed"}` };
};

const constant: SchemaRule = ({ path, action }, direction, k) => {
  if (path[k] !== "const") return null;
  if (action === "replace") return { level: "breaking", rule: `${direction}-property-const-changed` };
  return action === "add"
    ? { level: narrowing(direction), rule: `${direction}-property-const-added` }
    : { level: widening(direction), rule: `${direction}-property-const-removed` };
};

/** oneOf/anyOf members: one added widens, one removed narrows (oasdiff lets a response gain an anyOf member). */
const composition: SchemaRule = ({ path, action }, direction, k) => {
  const key = path[k];
  if ((key !== "oneOf" && key !== "anyOf" && key !== "allOf") || path.length > k + 2) return null;
  if (action === "replace") return null;
  const added = action === "add";
  const name = `${direction}-property-${kebab(String(key)).replace("-of", "-of")}-${added ? "added" : "removed"}`;
  if (key === "allOf") {
    if (direction === "request") return added ? { level: "breaking", rule: name } : { level: "dangerous", rule: name };
    return { level: "non-breaking", rule: name };
  }
  if (key === "anyOf" && direction === "response") return { level: "non-breaking", rule: name };
  return { level: added ? widening(direction) : narrowing(direction), rule: name };
};

const annotationOnly = new Set([
  "discriminator",
  "deprecated",
  "readOnly",
  "writeOnly",
  "example",
  "examples",
  "description",
  "title",
  "xml",
  "externalDocs",
]);

const harmless: SchemaRule = ({ path }, direction, k) => {
  const key = String(path[k]);
  if (annotationOnly.has(key))
    return {
      level: key === "readOnly" || key === "writeOnly" || key === "discriminator" ? "non-breaking" : "annotation",
      rule: `${direction}-property-${kebab(key)}-changed`,
    };
  if (key === "default") {
    // A parameter's default is what the server assumes when it is left out: changing it changes behaviour.
    const param = path.lastIndexOf("parameters") >= 0 && path.lastIndexOf("properties") < 0;
    return param && direction === "request"
      ? { level: "breaking", rule: "request-parameter-default-value-changed" }
      : { level: "non-breaking", rule: `${direction}-property-default-value-changed` };
  }
  return null;
};

/** Properties and `required`: judged with the property's own schema (read-only, write-only). */
const properties: SchemaRule = (input, direction, k) => {
  const { path, action } = input;
  if (path[k] === "required" && path.length <= k + 2) {
    const names =
      path.length === k + 2
        ? [action === "add" ? input.after : input.before]
        : ((action === "add" ? input.after : input.before) as unknown[]);
    const schema = (side: "before" | "after") =>
      (Array.isArray(names) ? names : []).map((n) => at(input, side, [...path.slice(0, k), "properties", String(n)]));
    const props = [...schema("before"), ...schema("after")];
    if (props.some((p) => notSent(p, direction)))
      return {
        level: "non-breaking",
        rule: `${direction}-${direction === "request" ? "read-only" : "write-only"}-property-required-changed`,
      };
    if (action === "add") return { level: narrowing(direction), rule: `${direction}-property-became-required` };
    if (action === "remove") return { level: widening(direction), rule: `${direction}-property-became-optional` };
    return null;
  }
  if (path[k] === "properties" && path.length === k + 2) {
    const prop = at(input, action === "add" ? "after" : "before", path);
    if (notSent(prop, direction))
      return {
        level: "non-breaking",
        rule: `${direction}-${direction === "request" ? "read-only" : "write-only"}-property-${action === "add" ? "added" : "removed"}`,
      };
    if (action === "add") {
      const required = at(input, "after", [...path.slice(0, k), "required"]);
      const isRequired = Array.isArray(required) && required.includes(path[k + 1]);
      return direction === "request" && isRequired
        ? { level: "breaking", rule: "new-required-request-property" }
        : {
            level: "non-breaking",
            rule:
              direction === "request" ? "new-optional-request-property" : `response-${isRequired ? "required" : "optional"}-property-added`,
          };
    }
    if (action === "remove") {
      if (direction === "request") return { level: "dangerous", rule: "request-property-removed" };
      const required = at(input, "before", [...path.slice(0, k), "required"]);
      return Array.isArray(required) && required.includes(path[k + 1])
        ? { level: "breaking", rule: "response-required-property-removed" }
        : { level: "dangerous", rule: "response-optional-property-removed" };
    }
  }
  return null;
};

const SCHEMA_RULES: SchemaRule[] = [properties, bounds, pattern, types, format, enumValues, constant, composition, harmless];

/** Index of the schema keyword a path changes: the last key that is not a property name or an index. */
function keywordIndex(path: readonly PathPart[], start: number): number {
  let k = -1;
  for (let i = start; i < path.length; i++) {
    const part = path[i];
    if (typeof part === "number") continue;
    if ((path[i - 1] === "properties" || path[i - 1] === "required") && i - 1 >= start) continue;
    if (path[i - 1] === "type" && /^\d+$/.test(String(part))) continue;
    k = i;
  }
  return k;
}

const schemaChange: Rule = (input) => {
  const direction = directionOf(input.path);
  const start = schemaStart(input.path);
  if (!direction || start < 0 || input.path.length <= start) return null;
  const k = keywordIndex(input.path, start);
  if (k < 0) return null;
  // Inside a property never sent in this direction, nothing can break a consumer.
  const inner =
    input.path[k] !== "properties" && input.path[k] !== "required" && input.path[k] !== "readOnly" && input.path[k] !== "writeOnly";
  if (inner && [enclosingProperty(input, "before", start), enclosingProperty(input, "after", start)].some((p) => notSent(p, direction)))
    return { level: "non-breaking", rule: `${direction}-${direction === "request" ? "read-only" : "write-only"}-property-changed` };
  for (const rule of SCHEMA_RULES) {
    const verdict = rule(input, direction, k);
    if (verdict) return verdict;
  }
  return null;
};

const RULES: Rule[] = [
  operationRemoved,
  webhookChanged,
  callbackChanged,
  statusChanged,
  parameterSerialization,
  parameterAddedOrRemoved,
  requestBodyAdded,
  mediaTypeChanged,
  headerRemoved,
  headerRequired,
  securityChanged,
  securitySchemeChanged,
  schemaChange,
];

/** The level of one OpenAPI change under the rules above, or null for the differ's own. */
export function classifyOpenApi(input: RuleInput): Verdict | null {
  for (const rule of RULES) {
    const verdict = rule(input);
    if (verdict) return verdict;
  }
  return null;
}
