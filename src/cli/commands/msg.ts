/** `brigade msg`: messages between agents, developers and leads, from the command line. */
import { readFileSync } from "node:fs";
import { ok, type BrigadeClient, type Message } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { usageError } from "../errors.js";
import { peopleOf } from "../people.js";

type Importance = "low" | "normal" | "high" | "urgent";
const IMPORTANCES: Importance[] = ["low", "normal", "high", "urgent"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Messages are read and acknowledged per reader: the current session's, else yours as a user. */
async function readerClient(ctx: Context): Promise<BrigadeClient> {
  return ctx.client("session", await ctx.session());
}

/** The body: --body, else what is piped in (a long Markdown text reads better from a file). */
function bodyOf(options: { body?: string }): string {
  if (options.body !== undefined) return options.body;
  const piped = process.stdin.isTTY ? "" : readFileSync(0, "utf8");
  if (piped.trim() === "") throw usageError("give the message with --body <text>, or pipe it in");
  return piped;
}

function importanceOf(value: string | undefined): Importance | undefined {
  if (value === undefined) return undefined;
  if (!IMPORTANCES.includes(value as Importance)) throw usageError(`--importance is one of ${IMPORTANCES.join(", ")}`);
  return value as Importance;
}

/**
 * `--to`: `session:<id>`, `user:<id, name or e-mail>`, `team:<id or name>`, or `organisation`
 * (`org`). Names are looked up, so a developer need not copy ids.
 */
async function audienceOf(client: BrigadeClient, to: string): Promise<{ type: "session" | "user" | "team" | "organisation"; id?: string }> {
  if (to === "organisation" || to === "org") return { type: "organisation" };
  const [kind, ...rest] = to.split(":");
  const ref = rest.join(":");
  if (!ref || !(kind === "session" || kind === "user" || kind === "team"))
    throw usageError("--to is session:<id>, user:<id|name|email>, team:<id|name> or organisation");
  if (UUID.test(ref) || kind === "session") return { type: kind, id: ref };
  if (kind === "user") {
    const users = (await ok(client.api.GET("/v1/users"))).items;
    const found = users.filter((u) => u.name === ref || u.email === ref);
    if (found.length !== 1) throw usageError(`no single user named ${ref}: use their id (\`brigade users list\` lists them)`);
    return { type: "user", id: found[0]!.id };
  }
  const teams = (await ok(client.api.GET("/v1/teams"))).items;
  const found = teams.filter((team) => team.name === ref);
  if (found.length !== 1) throw usageError(`no single team named ${ref}: use its id`);
  return { type: "team", id: found[0]!.id };
}

const ABOUT_KINDS = ["claim", "conflict", "handoff", "contract", "proposal", "path"] as const;
type About = { type: (typeof ABOUT_KINDS)[number]; id: string; path?: string };

/**
 * `--about`: what the thread is about, `<type>:<id>` (`claim:<id>`, as a refused claim prints it;
 * `handoff:`, `conflict:`, `contract:`, `proposal:`), or `path:<repo>#<path>`.
 */
function aboutOf(value: string | undefined): About | undefined {
  if (value === undefined) return undefined;
  const at = value.indexOf(":");
  const type = value.slice(0, at) as About["type"];
  const id = value.slice(at + 1);
  if (at < 1 || !ABOUT_KINDS.includes(type) || !id)
    throw usageError(`--about is <type>:<id> with type one of ${ABOUT_KINDS.join(", ")} (claim:<id>), or path:<repo>#<path>`);
  if (type !== "path") return { type, id };
  const hash = id.indexOf("#");
  if (hash < 1 || hash === id.length - 1) throw usageError("--about path:<repo>#<path> names the repository and the path");
  return { type, id: id.slice(0, hash), path: id.slice(hash + 1) };
}

const when = (iso: string) => iso.slice(0, 16).replace("T", " ");
const sender = (m: Message, person: (id: string) => string) => `${person(m.from.userId)}${m.from.sessionId ? "'s agent" : ""}`;

function flagsOf(m: Message): string {
  const flags = [
    m.importance === "high" || m.importance === "urgent" ? m.importance : "",
    m.ackRequired ? (m.acknowledgedAt ? "acknowledged" : "needs ack") : "",
    m.readAt ? "" : "unread",
  ].filter(Boolean);
  return flags.length ? `  [${flags.join(", ")}]` : "";
}

function listing(page: { items: Message[] }, person: (id: string) => string): string[] {
  return page.items.map((m) => `${m.id}  ${when(m.createdAt)}  ${sender(m, person)}: ${m.parentId ? "Re: " : ""}${m.subject}${flagsOf(m)}`);
}

export async function send(
  ctx: Context,
  options: { to: string; subject: string; body?: string; ack?: boolean; importance?: string; until?: string; about?: string },
) {
  const client = await readerClient(ctx);
  const importance = importanceOf(options.importance);
  const about = aboutOf(options.about);
  const body = bodyOf(options);
  const m = await ok(
    client.api.POST("/v1/messages", {
      body: {
        to: await audienceOf(client, options.to),
        subject: options.subject,
        body,
        ...(importance ? { importance } : {}),
        ...(options.ack ? { ackRequired: true } : {}),
        ...(options.until ? { until: options.until } : {}),
        ...(about ? { about } : {}),
      },
    }),
  );
  ctx.out.result(
    m,
    `Sent message ${m.id} to ${m.to.type}${m.to.id ? ` ${m.to.id}` : ""}${m.ackRequired ? " (recipients must acknowledge it)" : ""}; follow the thread with: brigade msg thread ${m.threadId}`,
  );
}

export async function reply(ctx: Context, messageId: string, options: { body?: string; ack?: boolean; importance?: string }) {
  const client = await readerClient(ctx);
  const importance = importanceOf(options.importance);
  const m = await ok(
    client.api.POST("/v1/messages/{id}/replies", {
      params: { path: { id: messageId } },
      body: { body: bodyOf(options), ...(importance ? { importance } : {}), ...(options.ack ? { ackRequired: true } : {}) },
    }),
  );
  ctx.out.result(m, `Replied (message ${m.id}) in thread ${m.threadId}: "${m.subject}"`);
}

export async function inbox(ctx: Context, options: { all?: boolean; needsAck?: boolean; sent?: boolean; thread?: string; limit?: number }) {
  const client = await readerClient(ctx);
  const unread = !(options.all || options.sent || options.needsAck || options.thread);
  const page = await ok(
    client.api.GET("/v1/messages", {
      params: {
        query: {
          ...(unread ? { unread: "true" } : {}),
          ...(options.needsAck ? { needsAck: "true" } : {}),
          ...(options.sent ? { box: "sent" as const } : {}),
          ...(options.thread ? { thread: options.thread } : {}),
          limit: options.limit ?? 50,
        },
      },
    }),
  );
  if (ctx.out.json) return ctx.out.result(page, "");
  if (page.items.length === 0)
    return ctx.out.result(
      page,
      options.needsAck ? "No directives waiting for your acknowledgement." : unread ? "No unread messages." : "No messages.",
    );
  const lines = listing(page, await peopleOf(client));
  lines.push("Read a thread with: brigade msg thread <threadId or message id>; answer with: brigade msg reply <id>");
  ctx.out.result(page, lines.join("\n"));
}

/** A thread, oldest first; its unread messages are marked read, as opening them in a mail client would. */
export async function thread(ctx: Context, id: string) {
  const client = await readerClient(ctx);
  // A reply's id leads to its thread too: what a notice or a listing shows is enough.
  const threadId = (await ok(client.api.GET("/v1/messages/{id}", { params: { path: { id } } }))).threadId;
  const t = await ok(client.api.GET("/v1/threads/{id}", { params: { path: { id: threadId } } }));
  for (const m of t.messages.filter((x) => !x.readAt))
    await ok(client.api.POST("/v1/messages/{id}/read", { params: { path: { id: m.id } }, body: {} }));
  if (ctx.out.json) return ctx.out.result(t, "");
  const person = await peopleOf(client);
  const lines = [`Thread ${t.id}: ${t.subject}${t.muted ? " (muted)" : ""}`];
  for (const m of t.messages) lines.push("", `── ${m.id}  ${when(m.createdAt)}  ${sender(m, person)}${flagsOf(m)}`, m.body);
  const waiting = t.messages.filter((m) => m.ackRequired && !m.acknowledgedAt);
  lines.push("", `Answer with: brigade msg reply ${t.messages[t.messages.length - 1]!.id} --body "…"`);
  if (waiting.length) lines.push(`Acknowledge with: brigade msg ack ${waiting.map((m) => m.id).join(" ")}`);
  ctx.out.result(t, lines.join("\n"));
}

export async function ack(ctx: Context, ids: string[]) {
  const client = await readerClient(ctx);
  const acked: Message[] = [];
  const lines: string[] = [];
  for (const id of ids) {
    const before = await ok(client.api.GET("/v1/messages/{id}", { params: { path: { id } } }));
    const m = before.acknowledgedAt ? before : await ok(client.api.POST("/v1/messages/{id}/ack", { params: { path: { id } }, body: {} }));
    acked.push(m);
    lines.push(
      before.acknowledgedAt
        ? `Message ${id} ("${m.subject}") was already acknowledged at ${m.acknowledgedAt}`
        : `Acknowledged message ${id} ("${m.subject}"); its sender is told`,
    );
  }
  ctx.out.result({ acked }, lines.join("\n"));
}

export async function search(ctx: Context, words: string[], options: { limit?: number }) {
  const client = await readerClient(ctx);
  const q = words.join(" ");
  const page = await ok(client.api.GET("/v1/messages/search", { params: { query: { q, limit: options.limit ?? 50 } } }));
  if (ctx.out.json) return ctx.out.result(page, "");
  if (page.items.length === 0) return ctx.out.result(page, `No messages match ${JSON.stringify(q)}.`);
  ctx.out.result(page, [...listing(page, await peopleOf(client)), "Read a thread with: brigade msg thread <id>"].join("\n"));
}
