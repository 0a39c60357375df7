import fc from "fast-check";

/** A JSON Schema as openapi.yaml writes them (the subset the routes' zod schemas produce). */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}

/**
 * Values a well-behaved server must refuse or handle without failing: control characters,
 * lone surrogates, huge and deep values, wrong types, odd encodings, extreme numbers.
 */
export const hostileStrings = [
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\uffff\ufffe",
  "%00%ff%",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "../../../../etc/passwd",
  "' or 1=1 --",
  '"; drop table users; --',
  "<script>alert(1)</script>",
  `$${"{"}jndi:ldap://x}`,
  "{{7*7}}",
  "\u202e\u200b\u2028\u2029",
  "🦀".repeat(300),
  "a".repeat(5000),
  "a".repeat(70_000),
  "**/".repeat(400),
  "[".repeat(3000),
  "\\".repeat(1000),
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "NaN",
  "-1",
  "1e309",
];

const deep = (n: number): unknown => {
  let v: unknown = "x";
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

export const hostileValues: unknown[] = [
  ...hostileStrings,
  null,
  true,
  0,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_VALUE,
  1e300,
  [],
  {},
  ["\u0000"],
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
  Array.from({ length: 5000 }, (_, i) => i),
  deep(200),
  deep(3000),
];

export const hostileString = fc.constantFrom(...hostileStrings);
export const hostileValue = fc.constantFrom(...hostileValues);

const uuid = fc.uuid({ version: [4, 7] });

/** Arbitrary values for a schema; `hostility` (0..1) is how often a value is replaced by a hostile one. */
export function arbitraryFor(schema: Schema, components: Record<string, Schema>, hostility: number, depth = 0): fc.Arbitrary<unknown> {
  const sane = saneFor(schema, components, hostility, depth);
  if (hostility <= 0) return sane;
  const hostileWeight = Math.max(1, Math.round(hostility * 100));
  return fc.oneof({ arbitrary: sane, weight: 100 - hostileWeight }, { arbitrary: hostileValue, weight: hostileWeight });
}

function saneFor(schema: Schema, components: Record<string, Schema>, hostility: number, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop()!;
    return components[name] ? saneFor(components[name]!, components, hostility, depth) : fc.constant({});
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) return fc.oneof(...variants.map((v) => arbitraryFor(v, components, hostility, depth + 1)));
  if (schema.allOf?.length) return saneFor(schema.allOf[0]!, components, hostility, depth);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "string":
      if (schema.format === "uuid") return uuid;
      if (schema.format === "date-time") return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case "integer":
      return fc.integer({ min: Math.ceil(schema.minimum ?? -1000), max: Math.floor(Math.min(schema.maximum ?? 100_000, 2 ** 31)) });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "array":
      if (depth > 4) return fc.constant([]);
      return fc.array(arbitraryFor(schema.items ?? {}, components, hostility, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case "object": {
      if (depth > 4) return fc.constant({});
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(properties)) record[key] = arbitraryFor(value, components, hostility, depth + 1);
      const requiredKeys = Object.keys(properties).filter((k) => required.has(k));
      return fc.record(record, { requiredKeys });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}
