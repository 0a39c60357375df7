import { compareAsyncApi, compareJsonSchema, compareOpenApi, type Diff } from "api-smart-diff";
import type { GraphQLSchema } from "graphql";
import { isObject, jsonPath, resolvePointer, type Change, type ChangeLevel } from "./contracts.changes.js";
import { asAsyncApi2, judgeAsyncApiType } from "./contracts.asyncapi.js";
import { diffGraphql } from "./contracts.graphql.js";
import { classifyOpenApi, parameterAt, type Verdict } from "./contracts.rules.js";
import { diffProtobuf, type ProtoPackage } from "./contracts.protobuf.js";
import type { CompatibilityPolicy, ContractKind, DangerousPolicy, ProtobufCategory } from "./contracts.table.js";

/**
 * Diff and classification. Every change has a level (breaking, dangerous, non-breaking,
 * annotation, unclassified), where it is (a JSON path, or a GraphQL schema coordinate) and a
 * sentence. "Breaking" always means: breaks someone relying on the version diffed *from*;
 * "dangerous" never makes a version incompatible.
 *
 * - OpenAPI 3.x, AsyncAPI 2.x and 3.0 (as the 2.x document it means), JSON Schema: `api-smart-diff` finds the changes, resolving local
 *   `$ref`s and reporting each where it takes effect. OpenAPI changes are then judged by the
 *   rules of `contracts.rules.ts` (after oasdiff's); its reports of the `components` sections
 *   themselves are dropped, since every use of a component is already reported where it is
 *   used; `securitySchemes` are kept. For AsyncAPI it judges messages where they are defined
 *   (in components), so those reports stay, with its own levels.
 * - GraphQL: graphql-inspector's core (`contracts.graphql.ts`).
 * - Protocol Buffers: buf's rules, under the contract's category (`contracts.protobuf.ts`).
 * - Opaque: any change is one unclassified change.
 */

/** A contract's settings that change how its changes are judged. */
export interface DiffOptions {
  /** protobuf: the buf category whose rules make a change breaking (FILE when absent). */
  protobufCategory?: ProtobufCategory | null;
}

export interface PolicyOptions extends DiffOptions {
  /** allow (default): dangerous changes are reported, never refused; block: they count as breaking. */
  dangerous?: DangerousPolicy;
}

export { MAX_CHANGES } from "./contracts.changes.js";

export interface Summary {
  breaking: number;
  dangerous: number;
  nonBreaking: number;
  annotation: number;
  unclassified: number;
}

/** A breaking change that makes a version incompatible under the policy, with what it was checked against. */
export interface Incompatibility extends Change {
  against: string;
  /** backward: old consumers of `against` break; forward: consumers of the new version cannot read `against`. */
  direction: "backward" | "forward";
}

export function summarize(changes: readonly Change[]): Summary {
  const s: Summary = { breaking: 0, dangerous: 0, nonBreaking: 0, annotation: 0, unclassified: 0 };
  for (const c of changes) {
    if (c.level === "breaking") s.breaking++;
    else if (c.level === "dangerous") s.dangerous++;
    else if (c.level === "non-breaking") s.nonBreaking++;
    else if (c.level === "annotation") s.annotation++;
    else s.unclassified++;
  }
  return s;
}

type JsonObject = Record<string, unknown>;

const OPENAPI_COMPONENTS = [
  "schemas",
  "responses",
  "parameters",
  "examples",
  "requestBodies",
  "headers",
  "links",
  "callbacks",
  "pathItems",
];
const ASYNCAPI_COMPONENTS = [
  "schemas",
  "messages",
  "parameters",
  "correlationIds",
  "operationTraits",
  "messageTraits",
  "serverBindings",
  "channelBindings",
  "operationBindings",
  "messageBindings",
];

// The walks below visit every node of two documents of megabytes on each publish: plain loops,
// and no entries arrays or serialised copies, which were most of a publish's garbage.

/** Calls `visit` with each `$ref` in the node until it returns true; says whether one did. */
function someRef(node: unknown, visit: (ref: string) => boolean): boolean {
  const stack = [node];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === "object" && v !== null) stack.push(v);
      }
    } else if (isObject(value)) {
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        const v = value[k];
        if (k === "$ref" && typeof v === "string") {
          if (visit(v)) return true;
        } else if (typeof v === "object" && v !== null) stack.push(v);
      }
    }
  }
  return false;
}

function refsIn(node: unknown, into: Set<string>) {
  someRef(node, (ref) => {
    into.add(ref);
    return false;
  });
  return into;
}

/** Equal JSON values (the same keys with equal values, whatever their order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as JsonObject;
  const y = b as JsonObject;
  let count = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k)) continue;
    count++;
    if (!Object.hasOwn(y, k) || !sameJson(x[k], y[k])) return false;
  }
  for (const k in y) if (Object.hasOwn(y, k)) count--;
  return count === 0;
}

/**
 * Drops what cannot produce a change, before the (slow: it walks every node, resolving
 * references) differ runs: the path items (or channels) that are equal in both documents
 * together with everything they reference, and the components nothing left references.
 * A 2,000-operation document with a few changes is then diffed as a few operations.
 * Both documents are plain JSON values (`contracts.content.ts`).
 */
function prune(before: JsonObject, after: JsonObject, section: string, componentSections: string[]): [JsonObject, JsonObject] {
  const a = { ...before };
  const b = { ...after };
  const sameTarget = new Map<string, boolean>();
  // Shared targets (error responses, common schemas) are in nearly every closure: their
  // references are collected once, not once per path item.
  const innerRefs = new Map<string, Set<string>>();
  /** Every reference reachable from these is the same in both documents. */
  const sameClosure = (start: Set<string>): boolean => {
    const queue = [...start];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const ref = queue.pop()!;
      if (seen.has(ref)) continue;
      seen.add(ref);
      // The whole document, or a plain-name anchor: not worth comparing, so nothing is pruned.
      if (!ref.startsWith("#/")) return false;
      let same = sameTarget.get(ref);
      if (same === undefined) {
        const target = resolvePointer(before, ref);
        same = target !== undefined && sameJson(target, resolvePointer(after, ref));
        sameTarget.set(ref, same);
      }
      if (!same) return false;
      let inner = innerRefs.get(ref);
      if (inner === undefined) innerRefs.set(ref, (inner = refsIn(resolvePointer(before, ref), new Set())));
      for (const next of inner) if (!seen.has(next)) queue.push(next);
    }
    return true;
  };

  const sa = before[section];
  const sb = after[section];
  // A reference into the section itself would dangle once its target is pruned.
  const intoSection = (doc: JsonObject) => someRef(doc, (ref) => ref.startsWith(`#/${section}/`));
  if (isObject(sa) && isObject(sb) && !intoSection(before) && !intoSection(after)) {
    const pa: JsonObject = { ...sa };
    const pb: JsonObject = { ...sb };
    for (const key of Object.keys(sa)) {
      if (!(key in sb)) continue;
      if (sameJson(sa[key], sb[key]) && sameClosure(refsIn(sa[key], new Set()))) {
        delete pa[key];
        delete pb[key];
      }
    }
    a[section] = pa;
    b[section] = pb;
  }

  // Components still referenced from what is left (in either document), transitively.
  const used = new Set<string>();
  for (const doc of [a, b]) {
    const source = doc === a ? before : after;
    const roots = new Set<string>();
    for (const [key, value] of Object.entries(doc)) if (key !== "components") refsIn(value, roots);
    const queue = [...roots];
    while (queue.length > 0) {
      const ref = queue.pop()!;
      const parts = ref.split("/");
      if (parts[1] !== "components" || parts.length < 4) continue;
      const key = parts.slice(0, 4).join("/");
      if (used.has(`${doc === a ? "a" : "b"}:${key}`)) continue;
      used.add(`${doc === a ? "a" : "b"}:${key}`);
      used.add(key);
      for (const inner of refsIn(resolvePointer(source, key), new Set())) queue.push(inner);
    }
  }
  for (const [doc, source] of [
    [a, before],
    [b, after],
  ] as const) {
    if (!isObject(source.components)) continue;
    const components: JsonObject = { ...source.components };
    for (const name of componentSections) {
      const entries = components[name];
      if (!isObject(entries)) continue;
      const kept: JsonObject = {};
      for (const [key, value] of Object.entries(entries)) {
        const pointer = `#/components/${name}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        if (used.has(pointer) || used.has(encodeURI(pointer))) kept[key] = value;
      }
      components[name] = kept;
    }
    doc.components = components;
  }
  return [a, b];
}

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const ACTIONS = { add: "Added", remove: "Removed", replace: "Replaced", rename: "Renamed" } as const;

/** Where in an API a path points, in words: ` in response 200 of GET /orders`. */
function apiContext(path: readonly (string | number)[]): string {
  if (path[0] === "webhooks" && path.length > 2) return ` in webhook ${path[1]}`;
  if (path[0] === "security") return " in the security requirements of every operation";
  if (path[0] === "channels") return ` in channel ${path[1]}${path[2] ? ` (${path[2]})` : ""}`;
  if (path[0] !== "paths" || path.length < 3) return "";
  const method = String(path[2]);
  if (!METHODS.has(method)) return ` on ${path[1]}`;
  const operation = `${method.toUpperCase()} ${path[1]}`;
  if (path[3] === "responses" && path.length > 4) return ` in response ${path[4]} of ${operation}`;
  if (path[3] === "requestBody") return ` in the request body of ${operation}`;
  if (path[3] === "parameters") return ` in a parameter of ${operation}`;
  return ` of ${operation}`;
}

/** The dotted property path inside a schema (`items[].total.amount`), from a diff path. */
function schemaField(path: readonly (string | number)[]): string {
  const start = path.lastIndexOf("schema") + 1 || path.lastIndexOf("payload") + 1;
  const out: string[] = [];
  for (let i = start; i < path.length; i++) {
    if (path[i] === "properties" && i + 1 < path.length) out.push(String(path[++i]));
    else if (path[i] === "items") out.push("[]");
  }
  return out.join(".").replace(/\.\[\]/g, "[]");
}

const short = (value: unknown) => {
  const text = JSON.stringify(value) ?? "";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * api-smart-diff's sentence, unless it has none or a garbled one (it reuses the sentence of a
 * schema's first use for its later uses, and leaves some empty): then one built from the path.
 */
function sentenceOf(d: Diff): string {
  const given = d.description?.trim() ?? "";
  const garbled =
    !given ||
    /\]\s{2}|^\[\w+\]\s*$/.test(d.description ?? "") ||
    /^in /.test(given) ||
    /^\[\w+\] `[^`]*`$/.test(given) ||
    /\{\{\w+\}\}/.test(given) ||
    (d.type !== "annotation" && /annotation \(/.test(given));
  const path = d.path;
  if (!garbled) {
    let sentence = given;
    if (path.at(-2) === "enum" && d.action !== "replace")
      sentence += ` (${short(d.action === "add" ? d.after : d.before)} ${d.action === "add" ? "added" : "removed"})`;
    // Its sentences name the part of an operation, not the operation.
    if (path[0] === "paths" && METHODS.has(String(path[2])) && path.length > 3 && !sentence.includes(String(path[1])))
      sentence += ` of ${String(path[2]).toUpperCase()} ${path[1]}`;
    return sentence;
  }
  const last = path.at(-1);
  const parent = path.at(-2);
  const value = d.action === "add" ? d.after : d.before;
  const field = schemaField(path);
  let what: string;
  if (parent === "properties") what = `property \`${field}\``;
  else if (parent === "required") what = `required status of \`${[field, String(value)].filter(Boolean).join(".")}\``;
  else if (parent === "enum") what = `value ${short(value)} of \`${field || "enum"}\``;
  else if (path[0] === "webhooks" && path.length === 2) what = `webhook ${path[1]}`;
  else if (path[0] === "security") what = path.length === 2 ? "a security requirement" : "a required scope";
  else if (typeof last === "string" && METHODS.has(last) && path[0] === "paths" && path.length === 3)
    what = `operation ${last.toUpperCase()} ${path[1]}`;
  else what = `${typeof last === "string" ? `\`${last}\`` : "item"}${field ? ` of \`${field}\`` : ""}`;
  return `[${ACTIONS[d.action]}] ${what}${apiContext(path)}`;
}

const fromSmartDiff = (d: Diff, judged?: Verdict | null): Change => {
  const location = jsonPath(d.path);
  const level: ChangeLevel = judged ? judged.level : d.type === "deprecated" ? "annotation" : d.type;
  // The rule that judged it, named after the reference's rule, so a reader can look it up.
  const message = judged ? `${sentenceOf(d)} (${judged.rule})` : sentenceOf(d);
  return {
    level,
    action: d.action,
    location,
    message: d.type === "deprecated" && !/deprecat/i.test(message) ? `${message} (deprecation)` : message,
  };
};

const inComponents = (d: Diff) => d.path[0] === "components" && d.path[1] !== "securitySchemes";

function diffOpaque(before: string, after: string): Change[] {
  if (before === after) return [];
  const count = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split("\n")) m.set(line, (m.get(line) ?? 0) + 1);
    return m;
  };
  const [a, b] = [count(before), count(after)];
  let added = 0;
  let removed = 0;
  for (const [line, n] of b) added += Math.max(0, n - (a.get(line) ?? 0));
  for (const [line, n] of a) removed += Math.max(0, n - (b.get(line) ?? 0));
  return [
    {
      level: "unclassified",
      action: "replace",
      location: "$",
      message: `The content changed (${added} line${added === 1 ? "" : "s"} added, ${removed} removed); opaque contracts are not classified.`,
    },
  ];
}

/** Every change from `before` to `after`, classified from the point of view of `before`'s users. */
export function diffDocuments(kind: ContractKind, before: unknown, after: unknown, options: DiffOptions = {}): Change[] {
  switch (kind) {
    case "protobuf":
      return diffProtobuf(before as ProtoPackage, after as ProtoPackage, options.protobufCategory ?? "FILE");
    case "opaque":
      return diffOpaque(before as string, after as string);
    case "graphql":
      return diffGraphql(before as GraphQLSchema, after as GraphQLSchema);
    case "jsonschema":
      return compareJsonSchema(before, after).diffs.map((d) => fromSmartDiff(d));
    case "openapi": {
      const [a, b] = prune(before as JsonObject, after as JsonObject, "paths", OPENAPI_COMPONENTS);
      const docs = { before: a, after: b };
      const today = new Date().toISOString().slice(0, 10);
      // The differ writes into the documents it compares (it fills in what it merges): the
      // rules read the documents as they were.
      return compareOpenApi(structuredClone(a), structuredClone(b))
        .diffs.filter((d) => !inComponents(d))
        .map((d) => {
          const change = fromSmartDiff(
            d,
            classifyOpenApi({ path: d.path, action: d.action, before: d.before, after: d.after, docs, today }),
          );
          // Its sentences name a parameter by its index across both documents, which may be another one's.
          const param = parameterAt(docs, d.path);
          if (param) change.message = change.message.replace(/\b\w+ parameter `[^`]*`/, `${param.in} parameter \`${param.name}\``);
          return change;
        });
    }
    case "asyncapi": {
      // 3.0 is judged as the 2.x document it means to its consumers (`contracts.asyncapi.ts`).
      const [a, b] = prune(asAsyncApi2(before) as JsonObject, asAsyncApi2(after) as JsonObject, "channels", ASYNCAPI_COMPONENTS);
      // Its AsyncAPI rules judge a message where it is defined (in components), not where used.
      return compareAsyncApi(a, b).diffs.map((d) => fromSmartDiff(d, judgeAsyncApiType(d)));
    }
  }
}

export interface HistoryEntry {
  label: string;
  /** Loaded only when the policy needs this version. */
  document: () => unknown;
}

export interface CompatibilityResult {
  policy: CompatibilityPolicy;
  dangerous: DangerousPolicy;
  compatible: boolean;
  /** Labels of the versions the candidate was checked against, oldest first. */
  checkedAgainst: string[];
  breaking: Incompatibility[];
  /** Every change from the latest version to the candidate (empty without a latest version). */
  changes: Change[];
}

/**
 * Does a candidate satisfy the policy against the history (oldest first)?
 * - backward: consumers of the old version still work: no breaking change old → new;
 * - forward: consumers of the new version can still read the old: no breaking change new → old;
 * - full: both; `*_transitive`: against every earlier version, not only the latest;
 * - none: always compatible (changes are still classified and reported).
 * Unclassified changes (opaque contracts, what a differ cannot judge) never make a version
 * incompatible on their own: they are reported, and consumers are alerted all the same.
 * Dangerous changes do only when the contract says `dangerous: block`; they are then listed
 * with the breaking ones, keeping their own level.
 */
export function checkCompatibility(
  kind: ContractKind,
  policy: CompatibilityPolicy,
  candidate: unknown,
  history: readonly HistoryEntry[],
  options: PolicyOptions = {},
): CompatibilityResult {
  const dangerous = options.dangerous ?? "allow";
  const blocks = (c: Change) => c.level === "breaking" || (dangerous === "block" && c.level === "dangerous");
  const latest = history.at(-1);
  const latestDoc = latest?.document();
  const changes = latest ? diffDocuments(kind, latestDoc, candidate, options) : [];
  const base = policy.replace(/_transitive$/, "");
  const targets = policy === "none" || !latest ? [] : policy.endsWith("_transitive") ? history : [latest];
  const breaking: Incompatibility[] = [];
  for (const target of targets) {
    const doc = target === latest ? latestDoc : target.document();
    if (base === "backward" || base === "full") {
      const forwardChanges = target === latest ? changes : diffDocuments(kind, doc, candidate, options);
      for (const c of forwardChanges) if (blocks(c)) breaking.push({ ...c, against: target.label, direction: "backward" });
    }
    if (base === "forward" || base === "full") {
      for (const c of diffDocuments(kind, candidate, doc, options))
        if (blocks(c)) breaking.push({ ...c, against: target.label, direction: "forward" });
    }
  }
  return { policy, dangerous, compatible: breaking.length === 0, checkedAgainst: targets.map((t) => t.label), breaking, changes };
}
