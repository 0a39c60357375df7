/**
 * Scenario `contracts`: publishing and classifying a large OpenAPI document.
 *
 * A seeded generator writes a realistic OpenAPI 3.0 document of 2,000 operations (services ×
 * resources: list/create/get/update/delete, sub-collections and actions; path, query and
 * header parameters; request bodies and responses referencing shared component schemas,
 * parameters and responses; a description on every operation and property). Two contracts
 * (default `backward` policy, one consumer team) get version 1.0.0 and then
 * BENCH_CONTRACT_VERSIONS (25) successive versions, each with a few realistic changes: mostly
 * non-breaking (optional properties, new operations and query parameters, widened request
 * enums, descriptions, deprecations); every 8th version is breaking (an operation removed, a
 * required request property, a response property removed) and is published with `force` and
 * a reason, as a provider would. One contract receives the YAML spelling of each version, the
 * other the JSON one (2-space indented, as a file in a repository), alternating, so both
 * formats see the same machine load.
 *
 * Per publish: end-to-end latency measured by the harness (request body prepared beforehand),
 * and the server's `Server-Timing` split (parse, diff, store). Server RSS peak over the run.
 * Checks: every publish accepted (201), each version classified as intended (breaking changes
 * exactly in the breaking steps), the YAML and JSON spellings of a version hashed alike.
 *
 * Targets (YAML, the spelling a repository's `openapi.yaml` is published in): p50 ≤ 500 ms;
 * server RSS ≤ 400 MB. The JSON case is reported against the same target.
 *
 * Then, on the same server, `contracts-protobuf.ts`: checks of a 500-message Protocol Buffers
 * package (p50 ≤ 200 ms); the RSS target covers both parts.
 */
import { availableParallelism } from "node:os";
import { api } from "../lib/api.js";
import { startBrigade, type BrigadeServer } from "../lib/brigade.js";
import { numberEnv } from "../lib/env.js";
import { CpuMeters, serverReport, serverRows } from "../lib/report.js";
import { Rng } from "../lib/synthetic.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { median, percentile } from "./claims/micro.js";
import { measureProtobuf, type ProtobufRun } from "./contracts-protobuf.js";

const target = { p50Ms: 500, rssMB: 400 };
const OPERATIONS = 2_000;
/** Every n-th successive version is a breaking one, published with force. */
const BREAKING_EVERY = 8;
const REQUEST_TIMEOUT_MS = 120_000;

const round = (n: number) => Math.round(n * 10) / 10;

// ── the generated API ────────────────────────────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SERVICES = [
  "billing",
  "identity",
  "catalog",
  "orders",
  "payments",
  "shipping",
  "inventory",
  "notifications",
  "analytics",
  "support",
  "messaging",
  "scheduler",
  "media",
  "content",
  "pricing",
  "ledger",
  "reviews",
  "loyalty",
  "compliance",
  "workflow",
] as const;
const ENTITIES = [
  "account",
  "invoice",
  "payment",
  "refund",
  "customer",
  "subscription",
  "plan",
  "coupon",
  "order",
  "shipment",
  "parcel",
  "product",
  "variant",
  "price",
  "warehouse",
  "stock-item",
  "return",
  "review",
  "ticket",
  "message",
  "channel",
  "webhook",
  "api-key",
  "user",
  "group",
  "role",
  "policy",
  "report",
  "export",
  "job",
  "schedule",
  "file",
  "folder",
  "comment",
  "tag",
  "note",
  "event",
  "notification",
  "device",
  "batch",
] as const;
const ACTIONS = ["archive", "restore", "approve", "cancel", "submit", "publish", "verify", "refresh", "close", "reopen"] as const;
const STATUSES = ["draft", "pending", "active", "suspended", "archived", "closed", "failed", "completed", "expired"] as const;
const VERBS = ["Returns", "Lists", "Retrieves", "Fetches"] as const;
/** Property names, each with the shape such a property has in real APIs. */
const FIELDS = [
  "label",
  "title",
  "summary",
  "reference",
  "externalId",
  "priority",
  "weight",
  "score",
  "quantity",
  "capacity",
  "enabled",
  "visible",
  "locale",
  "timezone",
  "currency",
  "email",
  "website",
  "phone",
  "notes",
  "source",
  "channel",
  "region",
  "category",
  "rank",
  "expiresAt",
  "startsAt",
  "endsAt",
  "retries",
  "threshold",
  "color",
  "amount",
  "total",
  "address",
  "billingAddress",
  "tags",
  "ownerId",
] as const;
const CHANNELS = ["web", "mobile", "email", "sms", "api", "partner", "store"] as const;
const REGIONS = ["eu-west", "eu-central", "us-east", "us-west", "ap-south", "ap-northeast"] as const;

interface Resource {
  service: string;
  entity: string;
  /** PascalCase: BillingInvoice. */
  schema: string;
  plural: string;
  idParam: string;
  collection: string;
  item: string;
}

const pascal = (s: string) =>
  s
    .split(/[-_]/)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
const camel = (s: string) => {
  const p = pascal(s);
  return p[0]!.toLowerCase() + p.slice(1);
};
const plural = (s: string) => (s.endsWith("y") && !s.endsWith("ey") ? `${s.slice(0, -1)}ies` : /(s|sh|ch|x)$/.test(s) ? `${s}es` : `${s}s`);
const words = (s: string) => s.replace(/-/g, " ");
const some = <T>(rng: Rng, items: readonly T[], min: number) =>
  items
    .filter(() => rng.chance(0.6))
    .concat(items.slice(0, min))
    .filter((v, i, a) => a.indexOf(v) === i);

/** The schema of a property called `name`, with a description. */
function propertySchema(rng: Rng, name: (typeof FIELDS)[number], owner: string): JsonObject {
  const about = `The ${words(owner)}'s ${name.replace(/([A-Z])/g, " $1").toLowerCase()}.`;
  switch (name) {
    case "amount":
    case "total":
      return { $ref: "#/components/schemas/Money" };
    case "address":
    case "billingAddress":
      return { $ref: "#/components/schemas/Address" };
    case "priority":
    case "rank":
    case "retries":
    case "quantity":
    case "capacity":
      return { type: "integer", format: "int32", minimum: 0, maximum: [5, 100, 10_000, 1_000_000][rng.int(4)]!, description: about };
    case "weight":
    case "score":
    case "threshold":
      return { type: "number", format: "double", minimum: 0, description: about };
    case "enabled":
    case "visible":
      return { type: "boolean", default: rng.chance(0.5), description: about };
    case "locale":
      return { type: "string", pattern: "^[a-z]{2}(-[A-Z]{2})?$", example: "en-GB", description: about };
    case "timezone":
      return { type: "string", maxLength: 64, example: "Europe/Paris", description: about };
    case "currency":
      return { type: "string", pattern: "^[A-Z]{3}$", description: about };
    case "email":
      return { type: "string", format: "email", maxLength: 254, description: about };
    case "website":
      return { type: "string", format: "uri", maxLength: 2048, description: about };
    case "channel":
      return { type: "string", enum: some(rng, CHANNELS, 2), description: about };
    case "region":
      return { type: "string", enum: some(rng, REGIONS, 2), description: about };
    case "expiresAt":
    case "startsAt":
    case "endsAt":
      return { type: "string", format: "date-time", nullable: true, description: about };
    case "tags":
      return { type: "array", maxItems: 50, items: { type: "string", maxLength: 64 }, description: about };
    case "ownerId":
      return { type: "string", format: "uuid", description: about };
    default:
      return {
        type: "string",
        maxLength: [64, 200, 2000][rng.int(3)]!,
        ...(rng.chance(0.2) ? { nullable: true } : {}),
        description: about,
      };
  }
}

function sharedComponents(): JsonObject {
  const problem = (description: string): JsonObject => ({
    description,
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  });
  return {
    securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    parameters: {
      Cursor: {
        name: "cursor",
        in: "query",
        required: false,
        description: "Opaque cursor from a previous page's nextCursor.",
        schema: { type: "string", maxLength: 200 },
      },
      Limit: {
        name: "limit",
        in: "query",
        required: false,
        description: "Page size.",
        schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
      },
      IdempotencyKey: {
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description: "Makes a retried request safe: the same key returns the first result.",
        schema: { type: "string", maxLength: 128 },
      },
      CreatedAfter: {
        name: "createdAfter",
        in: "query",
        required: false,
        description: "Only those created after this instant.",
        schema: { type: "string", format: "date-time" },
      },
      IfMatch: {
        name: "If-Match",
        in: "header",
        required: false,
        description: "Only update if the resource's ETag matches.",
        schema: { type: "string" },
      },
    },
    responses: {
      BadRequest: problem("The request is malformed."),
      Unauthorized: problem("Missing or invalid credentials."),
      Forbidden: problem("The caller may not do this."),
      NotFound: problem("No such resource."),
      Conflict: problem("The resource changed or already exists."),
      ValidationFailed: problem("The body is well-formed but invalid."),
    },
    schemas: {
      Problem: {
        type: "object",
        description: "An RFC 9457 problem document.",
        required: ["type", "title", "status"],
        properties: {
          type: { type: "string", format: "uri", description: "What kind of problem." },
          title: { type: "string", description: "A short summary of the problem kind." },
          status: { type: "integer", description: "The HTTP status code." },
          detail: { type: "string", description: "What went wrong this time." },
          instance: { type: "string", description: "The request that failed." },
        },
      },
      Money: {
        type: "object",
        description: "An amount of money in minor units.",
        required: ["amount", "currency"],
        properties: {
          amount: { type: "integer", format: "int64", description: "Minor units (cents)." },
          currency: { type: "string", pattern: "^[A-Z]{3}$", description: "ISO 4217 code." },
        },
      },
      Address: {
        type: "object",
        description: "A postal address.",
        required: ["line1", "country"],
        properties: {
          line1: { type: "string", maxLength: 200, description: "Street and number." },
          line2: { type: "string", maxLength: 200, nullable: true, description: "Flat, floor or building." },
          city: { type: "string", maxLength: 100, description: "City or town." },
          postalCode: { type: "string", maxLength: 20, description: "Postal code." },
          country: { type: "string", pattern: "^[A-Z]{2}$", description: "ISO 3166-1 alpha-2 code." },
        },
      },
      Metadata: {
        type: "object",
        description: "Free-form key-value pairs set by the client.",
        maxProperties: 50,
        additionalProperties: { type: "string", maxLength: 500 },
      },
      LinkRequest: {
        type: "object",
        required: ["id"],
        properties: { id: { type: "string", format: "uuid", description: "The resource to link." } },
      },
    },
  };
}

/** The model behind the document, kept for picking what the next version changes. */
interface Api {
  doc: JsonObject;
  resources: Resource[];
  /** [path, method] of every operation, in document order. */
  operations: [string, string][];
}

/**
 * A deterministic OpenAPI 3.0.3 document of exactly `operationCount` operations.
 * Resources' schemas reference shared ones (Money, Address, Metadata) and earlier resources.
 */
function generateApi(seed: number, operationCount: number): Api {
  const rng = new Rng(seed);
  const components = sharedComponents();
  const schemas = components.schemas as JsonObject;
  const paths: JsonObject = {};
  const resources: Resource[] = [];
  const operations: [string, string][] = [];
  const seen = new Set<string>();
  const errors = (...names: string[]): JsonObject =>
    Object.fromEntries(names.map((n) => [n.split(":")[0]!, { $ref: `#/components/responses/${n.split(":")[1]}` }]));
  const json = (ref: string, description: string): JsonObject => ({
    description,
    content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
  });

  while (operations.length < operationCount) {
    const service = rng.pick(SERVICES);
    const entity = rng.pick(ENTITIES);
    if (seen.has(`${service}/${entity}`)) continue;
    seen.add(`${service}/${entity}`);
    const schema = `${pascal(service)}${pascal(entity)}`;
    const idParam = `${camel(entity)}Id`;
    const collection = `/${service}/${plural(entity)}`;
    const item = `${collection}/{${idParam}}`;
    const earlier = resources.filter((r) => r.service === service);
    const r: Resource = { service, entity, schema, plural: plural(entity), idParam, collection, item };
    resources.push(r);

    // Schemas: the resource (responses), its create and update bodies (requests), a page of it.
    const properties: JsonObject = {
      id: { type: "string", format: "uuid", readOnly: true, description: `The ${words(entity)}'s identifier.` },
      status: {
        type: "string",
        enum: [...new Set(Array.from({ length: 3 + rng.int(3) }, () => rng.pick(STATUSES)))],
        description: `Where the ${words(entity)} is in its life cycle.`,
      },
      createdAt: { type: "string", format: "date-time", readOnly: true, description: "When it was created." },
      updatedAt: { type: "string", format: "date-time", readOnly: true, description: "When it last changed." },
      metadata: { $ref: "#/components/schemas/Metadata" },
    };
    const fields = new Set<(typeof FIELDS)[number]>();
    for (let n = 3 + rng.int(7); fields.size < n; ) fields.add(rng.pick(FIELDS));
    for (const f of fields) properties[f] = propertySchema(rng, f, entity);
    if (earlier.length > 0 && rng.chance(0.5)) {
      const other = rng.pick(earlier);
      properties[`${camel(other.entity)}Id`] = {
        type: "string",
        format: "uuid",
        description: `The ${words(other.entity)} this ${words(entity)} belongs to.`,
      };
    }
    if (earlier.length > 0 && rng.chance(0.2))
      properties[camel(rng.pick(earlier).entity)] = { $ref: `#/components/schemas/${rng.pick(earlier).schema}` };
    const writable = Object.keys(properties).filter(
      (p) =>
        !["id", "status", "createdAt", "updatedAt"].includes(p) &&
        !(properties[p] as JsonObject).$ref?.toString().includes(`/${pascal(service)}`),
    );
    const required = writable.filter((p) => p !== "metadata").slice(0, 1 + rng.int(3));
    schemas[schema] = {
      type: "object",
      description: `A ${words(entity)} of the ${service} service.`,
      required: ["id", "status", "createdAt", "updatedAt"],
      properties,
    };
    schemas[`${schema}Create`] = {
      type: "object",
      description: `A new ${words(entity)}.`,
      required,
      properties: Object.fromEntries(writable.map((p) => [p, properties[p]!])),
    };
    schemas[`${schema}Update`] = {
      type: "object",
      description: `Changes to a ${words(entity)}: only the fields sent change.`,
      minProperties: 1,
      properties: Object.fromEntries(writable.map((p) => [p, properties[p]!])),
    };
    schemas[`${schema}Page`] = {
      type: "object",
      required: ["items", "nextCursor"],
      properties: {
        items: { type: "array", items: { $ref: `#/components/schemas/${schema}` } },
        nextCursor: { type: "string", nullable: true, description: "The next page's cursor; null on the last page." },
      },
    };

    const tags = [service];
    const idParameter: JsonObject = {
      name: idParam,
      in: "path",
      required: true,
      description: `The ${words(entity)}'s identifier.`,
      schema: { type: "string", format: "uuid" },
    };
    const ops: [string, string, JsonObject][] = [
      [
        collection,
        "get",
        {
          operationId: `list${schema}s`,
          tags,
          summary: `List ${words(r.plural)}`,
          description: `${rng.pick(VERBS)} the ${words(r.plural)} visible to the caller, newest first, a page at a time.`,
          parameters: [
            { $ref: "#/components/parameters/Cursor" },
            { $ref: "#/components/parameters/Limit" },
            {
              name: "status",
              in: "query",
              required: false,
              description: `Only ${words(r.plural)} in this status.`,
              schema: { type: "string", enum: (properties.status as JsonObject).enum! },
            },
            {
              name: "sort",
              in: "query",
              required: false,
              description: "Sort order.",
              schema: { type: "string", enum: ["createdAt", "-createdAt", "updatedAt", "-updatedAt"], default: "-createdAt" },
            },
            { $ref: "#/components/parameters/CreatedAfter" },
          ],
          responses: { "200": json(`${schema}Page`, `A page of ${words(r.plural)}.`), ...errors("400:BadRequest", "401:Unauthorized") },
        },
      ],
      [
        collection,
        "post",
        {
          operationId: `create${schema}`,
          tags,
          summary: `Create a ${words(entity)}`,
          description: `Creates a ${words(entity)}. Retrying with the same Idempotency-Key returns the first result.`,
          parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}Create` } } } },
          responses: {
            "201": json(schema, `The ${words(entity)} as created.`),
            ...errors("400:BadRequest", "401:Unauthorized", "409:Conflict", "422:ValidationFailed"),
          },
        },
      ],
      [
        item,
        "get",
        {
          operationId: `get${schema}`,
          tags,
          summary: `Get a ${words(entity)}`,
          description: `${rng.pick(VERBS)} one ${words(entity)} by its identifier.`,
          responses: { "200": json(schema, `The ${words(entity)}.`), ...errors("401:Unauthorized", "404:NotFound") },
        },
      ],
      [
        item,
        "patch",
        {
          operationId: `update${schema}`,
          tags,
          summary: `Update a ${words(entity)}`,
          description: `Changes the fields sent; the others keep their values.`,
          parameters: [{ $ref: "#/components/parameters/IfMatch" }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}Update` } } } },
          responses: {
            "200": json(schema, `The ${words(entity)} as updated.`),
            ...errors("400:BadRequest", "401:Unauthorized", "404:NotFound", "409:Conflict", "422:ValidationFailed"),
          },
        },
      ],
      [
        item,
        "delete",
        {
          operationId: `delete${schema}`,
          tags,
          summary: `Delete a ${words(entity)}`,
          description: `Deletes the ${words(entity)}; deleting it again is a 404.`,
          responses: { "204": { description: "Deleted." }, ...errors("401:Unauthorized", "403:Forbidden", "404:NotFound") },
        },
      ],
    ];
    if (earlier.length > 0 && rng.chance(0.5)) {
      const other = rng.pick(earlier);
      const sub = `${item}/${other.plural}`;
      ops.push(
        [
          sub,
          "get",
          {
            operationId: `list${schema}${pascal(other.plural)}`,
            tags,
            summary: `List a ${words(entity)}'s ${words(other.plural)}`,
            description: `The ${words(other.plural)} linked to this ${words(entity)}.`,
            parameters: [{ $ref: "#/components/parameters/Cursor" }, { $ref: "#/components/parameters/Limit" }],
            responses: {
              "200": json(`${other.schema}Page`, `A page of ${words(other.plural)}.`),
              ...errors("401:Unauthorized", "404:NotFound"),
            },
          },
        ],
        [
          sub,
          "post",
          {
            operationId: `link${schema}${pascal(other.entity)}`,
            tags,
            summary: `Link a ${words(other.entity)}`,
            description: `Links an existing ${words(other.entity)} to this ${words(entity)}.`,
            requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/LinkRequest" } } } },
            responses: {
              "201": json(other.schema, `The linked ${words(other.entity)}.`),
              ...errors("401:Unauthorized", "404:NotFound", "409:Conflict"),
            },
          },
        ],
      );
    }
    if (rng.chance(0.4)) {
      const action = rng.pick(ACTIONS);
      ops.push([
        `${item}/${action}`,
        "post",
        {
          operationId: `${action}${schema}`,
          tags,
          summary: `${pascal(action)} a ${words(entity)}`,
          description: `${pascal(action)}s the ${words(entity)}; a ${words(entity)} already in that state is a 409.`,
          responses: { "200": json(schema, `The ${words(entity)}.`), ...errors("401:Unauthorized", "404:NotFound", "409:Conflict") },
        },
      ]);
    }
    for (const [path, method, op] of ops) {
      if (operations.length >= operationCount) break;
      const pathItem = (paths[path] ??= path.includes("{") ? { parameters: [idParameter] } : {}) as JsonObject;
      pathItem[method] = op;
      operations.push([path, method]);
    }
  }

  const doc: JsonObject = {
    openapi: "3.0.3",
    info: {
      title: "Acme Platform API",
      version: "1.0.0",
      description: "Every service of the Acme platform behind one gateway (generated by bench/scenarios/contracts.ts).",
      contact: { name: "Platform team", email: "platform@acme.example" },
    },
    servers: [
      { url: "https://api.acme.example/v1", description: "Production" },
      { url: "https://api.staging.acme.example/v1", description: "Staging" },
    ],
    security: [{ bearerAuth: [] }],
    tags: SERVICES.map((s) => ({ name: s, description: `The ${s} service.` })),
    paths,
    components,
  };
  return { doc, resources, operations };
}

// ── successive versions ──────────────────────────────────────────────────────────────────

interface Step {
  label: string;
  breaking: boolean;
  changes: string[];
}

const operationAt = (api: Api, [path, method]: [string, string]) =>
  ((api.doc.paths as JsonObject)[path] as JsonObject)[method] as JsonObject;
const schemasOf = (api: Api) => (api.doc.components as JsonObject).schemas as Record<string, JsonObject>;

/** A few changes of the kinds a provider makes, applied to the document in place. */
function evolve(api: Api, rng: Rng, step: number, breaking: boolean): string[] {
  const schemas = schemasOf(api);
  const paths = api.doc.paths as JsonObject;
  const done: string[] = [];
  const resource = () => rng.pick(api.resources);
  const listOf = (r: Resource) => (paths[r.collection] as JsonObject | undefined)?.get as JsonObject | undefined;
  const nonBreaking = [
    () => {
      const r = resource();
      (schemas[r.schema]!.properties as JsonObject)[`extra${step}`] = {
        type: "string",
        maxLength: 100,
        description: `Added in step ${step}.`,
      };
      return `response property ${r.schema}.extra${step} added`;
    },
    () => {
      const r = resource();
      for (const s of [`${r.schema}Create`, `${r.schema}Update`])
        (schemas[s]!.properties as JsonObject)[`option${step}`] = {
          type: "boolean",
          description: `An optional setting added in step ${step}.`,
        };
      return `optional request property ${r.schema}Create.option${step} added`;
    },
    () => {
      const r = resource();
      const list = listOf(r);
      if (!list) return null;
      (list.parameters as Json[]).push({
        name: `filter${step}`,
        in: "query",
        required: false,
        description: `Filter added in step ${step}.`,
        schema: { type: "string", maxLength: 64 },
      });
      return `optional query parameter added to GET ${r.collection}`;
    },
    () => {
      const r = resource();
      const path = `${r.item}/history-${step}`;
      paths[path] = {
        parameters: [
          {
            name: r.idParam,
            in: "path",
            required: true,
            description: `The ${words(r.entity)}'s identifier.`,
            schema: { type: "string", format: "uuid" },
          },
        ],
        get: {
          operationId: `history${step}${r.schema}`,
          tags: [r.service],
          summary: `A ${words(r.entity)}'s history`,
          description: "Every change of the resource, oldest first.",
          parameters: [{ $ref: "#/components/parameters/Cursor" }],
          responses: {
            "200": {
              description: "The changes.",
              content: { "application/json": { schema: { type: "array", items: { $ref: `#/components/schemas/${r.schema}` } } } },
            },
            "404": { $ref: "#/components/responses/NotFound" },
          },
        },
      };
      api.operations.push([path, "get"]);
      return `operation GET ${path} added`;
    },
    () => {
      const op = operationAt(api, rng.pick(api.operations));
      op.description = `${String(op.description)} Revised in step ${step}.`;
      return `description of ${String(op.operationId)} changed`;
    },
    () => {
      const op = operationAt(api, rng.pick(api.operations));
      op.deprecated = true;
      return `${String(op.operationId)} deprecated`;
    },
    () => {
      const list = listOf(resource());
      if (!list) return null;
      const sort = (list.parameters as JsonObject[]).find((p) => p.name === "sort");
      ((sort!.schema as JsonObject).enum as Json[]).push(`rank${step}`, `-rank${step}`);
      return `sort values added to ${String(list.operationId)} (request enum widened)`;
    },
  ];
  for (let n = 2 + rng.int(4); done.length < n; ) {
    const change = rng.pick(nonBreaking)();
    if (change) done.push(change);
  }
  if (breaking) {
    switch (step % 3) {
      case 0: {
        const at = rng.int(api.operations.length);
        const [path, method] = api.operations[at]!;
        const item = paths[path] as JsonObject;
        delete item[method];
        if (Object.keys(item).every((k) => k === "parameters")) delete paths[path];
        api.operations.splice(at, 1);
        done.push(`operation ${method.toUpperCase()} ${path} removed`);
        break;
      }
      case 1: {
        const r = resource();
        const create = schemas[`${r.schema}Create`]!;
        (create.properties as JsonObject)[`mandatory${step}`] = {
          type: "string",
          maxLength: 64,
          description: `Now required (step ${step}).`,
        };
        (create.required as Json[]).push(`mandatory${step}`);
        done.push(`required request property ${r.schema}Create.mandatory${step} added`);
        break;
      }
      default: {
        const r = rng.pick(api.resources.filter((x) => "updatedAt" in (schemas[x.schema]!.properties as JsonObject)));
        delete (schemas[r.schema]!.properties as JsonObject).updatedAt;
        schemas[r.schema]!.required = (schemas[r.schema]!.required as Json[]).filter((p) => p !== "updatedAt");
        done.push(`required response property ${r.schema}.updatedAt removed`);
      }
    }
  }
  return done;
}

// ── YAML, as an editor or a generator writes it ──────────────────────────────────────────

const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;
const plainKey = (k: string) => (/^[A-Za-z_$][\w$./+-]*$/.test(k) || /^\/[\w/{}.-]*$/.test(k)) && !RESERVED.test(k);
const plainText = (s: string) => /^[A-Za-z][\w .,'()/-]*$/.test(s) && !/[ ]$/.test(s) && !RESERVED.test(s);
const plainFlow = (s: string) => plainText(s) && !/[,[\]{}]/.test(s);

function scalar(v: Json, flow: boolean): string {
  if (typeof v === "string") return (flow ? plainFlow(v) : plainText(v)) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

const isScalar = (v: Json) => v === null || typeof v !== "object";

/** Block style, short scalar lists in flow style (`enum: [a, b]`), quoting only what needs it. */
function toYaml(value: Json): string {
  const out: string[] = [];
  const key = (k: string) => (plainKey(k) ? k : JSON.stringify(k));
  const inline = (v: Json): string | null => {
    if (isScalar(v)) return scalar(v, false);
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      if (v.every(isScalar)) {
        const flow = `[${v.map((x) => scalar(x, true)).join(", ")}]`;
        if (flow.length <= 72) return flow;
      }
      return null;
    }
    return Object.keys(v).length === 0 ? "{}" : null;
  };
  const emitMap = (obj: JsonObject, indent: string, firstPrefix: string | null) => {
    let first = true;
    for (const [k, v] of Object.entries(obj)) {
      const lead = first && firstPrefix !== null ? firstPrefix : indent;
      first = false;
      const simple = inline(v);
      if (simple !== null) out.push(`${lead}${key(k)}: ${simple}`);
      else {
        out.push(`${lead}${key(k)}:`);
        emit(v, `${indent}  `);
      }
    }
  };
  const emit = (v: Json, indent: string) => {
    if (Array.isArray(v)) {
      for (const x of v) {
        const simple = inline(x);
        if (simple !== null) out.push(`${indent}- ${simple}`);
        else if (Array.isArray(x)) {
          out.push(`${indent}-`);
          emit(x, `${indent}  `);
        } else emitMap(x as JsonObject, `${indent}  `, `${indent}- `);
      }
    } else emitMap(v as JsonObject, indent, null);
  };
  emit(value, "");
  return `${out.join("\n")}\n`;
}

// ── publishing ───────────────────────────────────────────────────────────────────────────

interface Publish {
  label: string;
  status: number;
  ms: number;
  parse: number | null;
  diff: number | null;
  store: number | null;
  hash: string | null;
  breaking: number | null;
  forced: boolean | null;
  body: string;
}

function serverTiming(header: string | null): { parse: number | null; diff: number | null; store: number | null } {
  const get = (name: string) => {
    const m = header ? new RegExp(`(?:^|,)\\s*${name};dur=([\\d.]+)`).exec(header) : null;
    return m ? Number(m[1]) : null;
  };
  return { parse: get("parse"), diff: get("diff"), store: get("store") };
}

/** One publish, timed from sending the (prepared) body to the last byte of the answer. */
async function publish(brigade: BrigadeServer, contract: string, body: string, label: string): Promise<Publish> {
  const started = performance.now();
  const response = await fetch(`${brigade.url}/v1/contracts/${contract}/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${brigade.bootstrapToken}`, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: { hash?: string; summary?: { breaking?: number }; forced?: boolean } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // A non-JSON answer is reported through its status and body.
  }
  return {
    label,
    status: response.status,
    ms,
    ...serverTiming(response.headers.get("server-timing")),
    hash: parsed.hash ?? null,
    breaking: parsed.summary?.breaking ?? null,
    forced: parsed.forced ?? null,
    body: text,
  };
}

const FORMATS = ["yaml", "json"] as const;
type Format = (typeof FORMATS)[number];

interface Run {
  steps: Step[];
  sizes: Record<Format, { first: number; last: number }>;
  operations: { first: number; last: number };
  schemas: number;
  first: Record<Format, Publish>;
  publishes: Record<Format, Publish[]>;
  rssBeforeMB: number;
  rssPeakMB: number;
  window: [number, number];
}

async function setUp(brigade: BrigadeServer): Promise<void> {
  const must = async (what: string, expect: number, response: Promise<{ status: number; text: string }>) => {
    const r = await response;
    if (r.status !== expect) throw new Error(`${what}: expected ${expect}, got ${r.status} ${r.text.slice(0, 300)}`);
    return r;
  };
  const token = brigade.bootstrapToken;
  const provider = (await must("provider team", 201, api(brigade.url, token, "POST", "/v1/teams", { name: "platform-api" }))).text;
  const consumer = (await must("consumer team", 201, api(brigade.url, token, "POST", "/v1/teams", { name: "mobile-app" }))).text;
  const providerTeamId = (JSON.parse(provider) as { id: string }).id;
  const consumerTeamId = (JSON.parse(consumer) as { id: string }).id;
  for (const format of FORMATS) {
    const name = `platform-api-${format}`;
    await must(
      `contract ${name}`,
      201,
      api(brigade.url, token, "POST", "/v1/contracts", {
        name,
        kind: "openapi",
        description: `The Acme platform API, published as ${format.toUpperCase()}.`,
        providerTeamId,
        source: { repo: "github.com/acme/platform", patterns: [`api/openapi.${format}`] },
      }),
    );
    await must(
      `consumer of ${name}`,
      201,
      api(brigade.url, token, "POST", `/v1/contracts/${name}/consumers`, { kind: "team", teamId: consumerTeamId }),
    );
  }
}

async function measure({ log }: ScenarioContext, brigade: BrigadeServer, seed: number, versions: number): Promise<Run> {
  log(`generating an OpenAPI document of ${OPERATIONS.toLocaleString("en-US")} operations (seed ${seed})`);
  const model = generateApi(seed, OPERATIONS);
  const schemas = Object.keys((model.doc.components as JsonObject).schemas as JsonObject).length;
  const spell = (format: Format) => (format === "yaml" ? toYaml(model.doc) : `${JSON.stringify(model.doc, null, 2)}\n`);
  const bodyOf = (content: string, step: Step) =>
    JSON.stringify({
      content,
      label: step.label,
      ...(step.breaking ? { force: true, reason: `Planned breaking change: ${step.changes.at(-1)}.` } : {}),
    });

  await setUp(brigade);
  const sizes = { yaml: { first: 0, last: 0 }, json: { first: 0, last: 0 } };
  const publishes: Record<Format, Publish[]> = { yaml: [], json: [] };
  const first = {} as Record<Format, Publish>;
  const steps: Step[] = [];
  const rng = new Rng(seed ^ 0x5eed);
  const rssBeforeMB = brigade.process.stats.latestMB();
  const from = Date.now();
  let major = 1;
  let minor = 0;
  for (let step = 0; step <= versions; step++) {
    let current: Step = { label: "1.0.0", breaking: false, changes: [] };
    if (step > 0) {
      const breaking = step % BREAKING_EVERY === 0;
      const changes = evolve(model, rng, step, breaking);
      if (breaking) [major, minor] = [major + 1, 0];
      else minor++;
      current = { label: `${major}.${minor}.0`, breaking, changes };
      steps.push(current);
    }
    (model.doc.info as JsonObject).version = current.label;
    // Alternating which format goes first, so neither always follows the other's garbage.
    const order = step % 2 === 0 ? FORMATS : ([...FORMATS].reverse() as Format[]);
    for (const format of order) {
      const content = spell(format);
      if (step === 0) sizes[format].first = Buffer.byteLength(content);
      sizes[format].last = Buffer.byteLength(content);
      const result = await publish(brigade, `platform-api-${format}`, bodyOf(content, current), current.label);
      if (step === 0) first[format] = result;
      else publishes[format].push(result);
    }
    const [y, j] = [step === 0 ? first.yaml : publishes.yaml.at(-1)!, step === 0 ? first.json : publishes.json.at(-1)!];
    log(
      `${current.label.padEnd(7)} ${step === 0 ? "initial" : current.breaking ? "BREAKING (forced)" : "compatible"}: ` +
        `yaml ${y.status} ${y.ms.toFixed(0)} ms (parse ${y.parse ?? "?"} diff ${y.diff ?? "?"} store ${y.store ?? "?"}), ` +
        `json ${j.status} ${j.ms.toFixed(0)} ms (parse ${j.parse ?? "?"} diff ${j.diff ?? "?"} store ${j.store ?? "?"}); ` +
        `RSS ${brigade.process.stats.latestMB().toFixed(0)} MB${current.changes.length ? `; ${current.changes.join("; ")}` : ""}`,
    );
  }
  const to = Date.now();
  return {
    steps,
    sizes,
    operations: { first: OPERATIONS, last: model.operations.length },
    schemas,
    first,
    publishes,
    rssBeforeMB,
    rssPeakMB: brigade.process.stats.peakMB(from, to),
    window: [from, to],
  };
}

const kb = (bytes: number) => Math.round(bytes / 1024);
const values = (ps: Publish[], key: "ms" | "parse" | "diff" | "store") =>
  ps.map((p) => p[key]).filter((v): v is number => typeof v === "number");

function formatRows(run: Run, format: Format): Row[] {
  const ps = run.publishes[format];
  const tag = format.toUpperCase();
  const e2e = values(ps, "ms");
  const [parse, diff, store] = [median(values(ps, "parse")), median(values(ps, "diff")), median(values(ps, "store"))];
  const rest = median(e2e) - parse - diff - store;
  const rows: Row[] = [
    {
      metric: `${tag}: publish latency p50`,
      value: round(median(e2e)),
      unit: "ms",
      target: { op: "<=", value: target.p50Ms },
      note: `${ps.length} successive versions of a ${kb(run.sizes[format].first).toLocaleString("en-US")} KB document; harness clock from sending the request to the last byte of the answer`,
    },
    {
      metric: `${tag}: publish latency p99`,
      value: round(percentile(e2e, 99)),
      unit: "ms",
      ...(ps.length < 100 ? { note: `nearest rank of ${ps.length}: the slowest publish` } : {}),
    },
    { metric: `${tag}: Server-Timing parse (median)`, value: round(parse), unit: "ms" },
    { metric: `${tag}: Server-Timing diff (median)`, value: round(diff), unit: "ms" },
    { metric: `${tag}: Server-Timing store (median)`, value: round(store), unit: "ms" },
    { metric: `${tag}: rest (HTTP, body, auth; p50 − medians)`, value: round(rest), unit: "ms" },
    {
      metric: `${tag}: first version (no diff)`,
      value: round(run.first[format].ms),
      unit: "ms",
      note: `parse ${run.first[format].parse} ms, store ${run.first[format].store} ms`,
    },
  ];
  return rows;
}

function checkRows(run: Run): Row[] {
  const all = [...FORMATS.map((f) => run.first[f]), ...FORMATS.flatMap((f) => run.publishes[f])];
  const rejected = all.filter((p) => p.status !== 201);
  // Breaking changes found exactly in the steps meant to be breaking (and forced there).
  const misclassified: string[] = [];
  for (const format of FORMATS) {
    run.publishes[format].forEach((p, i) => {
      const step = run.steps[i]!;
      if (p.status !== 201) return;
      const found = (p.breaking ?? 0) > 0 || p.forced === true;
      if (found !== step.breaking)
        misclassified.push(
          `${format} ${p.label}: ${p.breaking} breaking, forced ${p.forced} (meant ${step.breaking ? "breaking" : "compatible"}: ${step.changes.join("; ")})`,
        );
    });
  }
  const sameHash =
    run.publishes.yaml.filter((p, i) => p.hash !== null && p.hash === run.publishes.json[i]?.hash).length +
    (run.first.yaml.hash === run.first.json.hash ? 1 : 0);
  const breakingSteps = run.steps.filter((s) => s.breaking).length;
  return [
    {
      metric: "publishes accepted (201)",
      value: `${all.length - rejected.length} / ${all.length}`,
      target: { op: "=", value: `${all.length} / ${all.length}` },
      ...(rejected.length
        ? {
            note: rejected
              .slice(0, 3)
              .map((p) => `${p.label} ${p.status} ${p.body.slice(0, 300)}`)
              .join(" | "),
          }
        : {}),
    },
    {
      metric: "versions classified as intended",
      value: `${all.length - 2 - rejected.length - misclassified.length} / ${all.length - 2}`,
      ok: misclassified.length === 0 && rejected.length === 0,
      note: misclassified.length
        ? misclassified.slice(0, 3).join(" | ")
        : `${breakingSteps} breaking (forced with a reason) and ${run.steps.length - breakingSteps} compatible steps per format`,
    },
    {
      metric: "YAML and JSON spellings hashed alike",
      value: `${sameHash} / ${run.steps.length + 1}`,
      target: { op: "=", value: `${run.steps.length + 1} / ${run.steps.length + 1}` },
    },
  ];
}

export async function contracts(context: ScenarioContext): Promise<Row[]> {
  const seed = Math.round(numberEnv("BENCH_SEED", 42));
  const versions = Math.max(1, Math.round(numberEnv("BENCH_CONTRACT_VERSIONS", 25)));
  const brigade = await startBrigade();
  const cpu = new CpuMeters();
  let run: Run;
  let proto: ProtobufRun;
  let logProblems: ReturnType<BrigadeServer["logProblems"]>;
  try {
    run = await measure(context, brigade, seed, versions);
    proto = await measureProtobuf(context.log, brigade, seed);
    logProblems = brigade.logProblems();
  } catch (err) {
    cpu.stop();
    await brigade.stop();
    throw err;
  }
  const exit = await brigade.stop();
  cpu.stop();
  const report = serverReport(brigade, cpu, run.window, logProblems, exit);
  const protoRssPeakMB = brigade.process.stats.peakMB(proto.window[0], proto.window[1]);
  const docRows: Row[] = [
    {
      metric: "document size (YAML / JSON)",
      value: `${kb(run.sizes.yaml.first).toLocaleString("en-US")} KB / ${kb(run.sizes.json.first).toLocaleString("en-US")} KB`,
      note: `${run.operations.first.toLocaleString("en-US")} operations on ${run.schemas.toLocaleString("en-US")} component schemas in 1.0.0; ${run.operations.last.toLocaleString("en-US")} operations and ${kb(run.sizes.yaml.last).toLocaleString("en-US")} KB / ${kb(run.sizes.json.last).toLocaleString("en-US")} KB in ${run.steps.at(-1)?.label}`,
    },
  ];
  return [
    ...docRows,
    ...formatRows(run, "yaml"),
    ...formatRows(run, "json"),
    {
      metric: "server RSS peak during the publishes",
      value: Math.round(run.rssPeakMB),
      unit: "MB",
      target: { op: "<=", value: target.rssMB },
      note: `before: ${Math.round(run.rssBeforeMB)} MB; sampled every 200 ms`,
    },
    ...checkRows(run),
    ...proto.rows,
    {
      metric: "server RSS peak during the protobuf checks",
      value: Math.round(protoRssPeakMB),
      unit: "MB",
      target: { op: "<=", value: target.rssMB },
    },
    ...serverRows("run", report, { name: `none (CPU over the whole publish sequence; ${availableParallelism()} cores)` }),
  ];
}
