import type { ChangeLevel } from "./contracts.changes.js";
import { isObject, resolvePointer } from "./contracts.changes.js";

/**
 * AsyncAPI 3.0 judged as AsyncAPI 2.x is: the differ (`api-smart-diff`) classifies 2.x, where a
 * channel's `subscribe` operation is what the application sends (its consumers receive it, so
 * what it may send must not widen) and `publish` what it receives (its consumers send it, so what
 * it accepts must not narrow). 3.0 moved operations out of channels and named the direction from
 * the application's side (`action: send | receive`); this puts each operation back on its
 * channel's address as the consumers see it, with its messages resolved, so both versions get
 * the same direction-aware rules (and a move from 2.x to 3.0 that keeps the same messages on the
 * same addresses shows no change).
 */

type Json = Record<string, unknown>;

const isAsyncApi3 = (doc: unknown): doc is Json => isObject(doc) && typeof doc.asyncapi === "string" && doc.asyncapi.startsWith("3.");

/**
 * Follows `$ref`s to channels, operations and messages (3.0's references between them), so an
 * operation's messages sit under it as in 2.x, where the differ judges a message where it is
 * used; schemas stay references.
 */
function follow(doc: Json, node: unknown, depth = 0): unknown {
  if (depth > 16 || !isObject(node) || typeof node.$ref !== "string") return node;
  const ref = node.$ref;
  if (!/^#\/(channels|operations|components\/(channels|operations|replies|messages))\//.test(ref)) return node;
  const target = resolvePointer(doc, ref);
  return target === undefined ? node : follow(doc, target, depth + 1);
}

/** A message with a Multi Format Schema payload (`{schemaFormat, schema}`) carries the schema itself. */
function plainMessage(message: unknown): unknown {
  if (!isObject(message) || !isObject(message.payload)) return message;
  const payload = message.payload;
  if ("schemaFormat" in payload && "schema" in payload) return { ...message, payload: payload.schema };
  return message;
}

/** The 2.x document a 3.0 one means to its consumers; any other document is returned as it is. */
export function asAsyncApi2(doc: unknown): unknown {
  if (!isAsyncApi3(doc)) return doc;
  const channels3 = isObject(doc.channels) ? doc.channels : {};
  const channels: Json = {};
  const operations = isObject(doc.operations) ? doc.operations : {};
  const channelKeyOf = (ref: string) =>
    decodeURIComponent(ref.split("/").at(-1) ?? "")
      .replace(/~1/g, "/")
      .replace(/~0/g, "~");

  for (const [id, raw] of Object.entries(operations).sort(([a], [b]) => a.localeCompare(b))) {
    const op = follow(doc, raw);
    if (!isObject(op)) continue;
    const ref = isObject(op.channel) && typeof op.channel.$ref === "string" ? op.channel.$ref : null;
    const channel = ref ? follow(doc, op.channel) : undefined;
    const key = ref ? channelKeyOf(ref) : id;
    const address = isObject(channel) && typeof channel.address === "string" ? channel.address : key;
    // The operation's messages, or all of its channel's when it names none.
    const listed = Array.isArray(op.messages)
      ? op.messages
      : isObject(channel) && isObject(channel.messages)
        ? Object.values(channel.messages)
        : [];
    const messages = listed.map((m) => plainMessage(follow(doc, m)));
    // send: the application sends, its consumers subscribe; receive: its consumers publish to it.
    const side = op.action === "send" ? "subscribe" : "publish";
    const item = (channels[address] ??= {}) as Json;
    if (isObject(channel) && channel.parameters !== undefined && item.parameters === undefined) item.parameters = channel.parameters;
    const existing = item[side] as Json | undefined;
    const before = existing
      ? isObject(existing.message) && Array.isArray(existing.message.oneOf)
        ? existing.message.oneOf
        : [existing.message]
      : [];
    const all = [...before, ...messages];
    const operation: Json = {
      operationId: existing ? `${existing.operationId} ${id}` : id,
      ...(all.length === 1 ? { message: all[0] } : all.length > 1 ? { message: { oneOf: all } } : {}),
    };
    for (const k of ["summary", "description", "tags", "bindings", "security"]) if (op[k] !== undefined && !existing) operation[k] = op[k];
    item[side] = operation;
  }
  // A channel no operation uses is still part of the interface (an address consumers may know).
  for (const [key, raw] of Object.entries(channels3)) {
    const channel = follow(doc, raw);
    const address = isObject(channel) && typeof channel.address === "string" ? channel.address : key;
    if (!(address in channels))
      channels[address] = isObject(channel) && channel.parameters !== undefined ? { parameters: channel.parameters } : {};
  }

  const components: Json = isObject(doc.components) ? { ...doc.components } : {};
  for (const k of ["channels", "operations", "replies", "replyAddresses", "tags", "externalDocs"]) delete components[k];
  if (isObject(components.messages))
    components.messages = Object.fromEntries(Object.entries(components.messages).map(([k, m]) => [k, plainMessage(m)]));
  const out: Json = { asyncapi: "2.6.0", info: doc.info, channels };
  if (doc.servers !== undefined) out.servers = doc.servers;
  if (Object.keys(components).length > 0) out.components = components;
  return out;
}

const typesOf = (value: unknown): Set<string> =>
  new Set((Array.isArray(value) ? value : [value]).filter((t): t is string => typeof t === "string"));
/** Does `types` admit every value of type `t`? (An integer is a number.) */
const admits = (types: Set<string>, t: string) => types.has(t) || (t === "integer" && types.has("number"));

/**
 * A payload schema's `type` replaced, judged as consumers see it (the differ calls some of these
 * non-breaking whatever the direction, e.g. number → string): in what the application sends
 * (2.x `subscribe`), a type the old schema did not allow breaks its readers; in what it receives
 * (`publish`), dropping a type its senders may use breaks them.
 */
export function judgeAsyncApiType(change: {
  path: readonly (string | number)[];
  action: string;
  before?: unknown;
  after?: unknown;
}): { level: ChangeLevel; rule: string } | null {
  const { path } = change;
  if (change.action !== "replace" || path[0] !== "channels" || path.at(-1) !== "type" || !path.includes("payload")) return null;
  const side = path[2];
  if (side !== "subscribe" && side !== "publish") return null;
  const [before, after] = [typesOf(change.before), typesOf(change.after)];
  if (side === "subscribe") {
    const widened = [...after].some((t) => !admits(before, t));
    return { level: widened ? "breaking" : "non-breaking", rule: widened ? "send-payload-type-widened" : "send-payload-type-narrowed" };
  }
  const narrowed = [...before].some((t) => !admits(after, t));
  return {
    level: narrowed ? "breaking" : "non-breaking",
    rule: narrowed ? "receive-payload-type-narrowed" : "receive-payload-type-widened",
  };
}
