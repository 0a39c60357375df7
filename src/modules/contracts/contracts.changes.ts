/**
 * What the parser (`contracts.content.ts`) and the differs (`contracts.diff.ts`,
 * `contracts.graphql.ts`) share: the change a diff reports, and the JSON path and pointer
 * helpers. It imports none of them, so each depends on it and the three never import one
 * another in a circle.
 */

/** `dangerous`: breaks no request or response by itself, but may surprise a consumer (oasdiff WARN, graphql-inspector dangerous). */
/** Changes kept on a version or proposal, and returned; the total is always kept. */
export const MAX_CHANGES = 1_000;

export const changeLevels = ["breaking", "dangerous", "non-breaking", "annotation", "unclassified"] as const;
export type ChangeLevel = (typeof changeLevels)[number];

export interface Change {
  level: ChangeLevel;
  action: "add" | "remove" | "replace" | "rename" | null;
  location: string;
  message: string;
}

export type PathPart = string | number;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON path for messages: `$.paths['/orders/{id}'].get`. */
export function jsonPath(path: readonly PathPart[]): string {
  let out = "$";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else out += `['${part.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`;
  }
  return out;
}

/** The node a local JSON-pointer fragment (`#/components/schemas/Order`) names, if any. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (ref === "#") return doc;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}
