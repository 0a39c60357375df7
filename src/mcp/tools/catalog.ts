/**
 * Every tool's annotations (what a client may assume before calling it) and output schema (the
 * shape of its structuredContent), in one table: `registerTool` refuses a tool missing here.
 * Output schemas name the fields agents rely on and let the rest through, so a field the API
 * adds later does not fail validation; every result also carries its text as `message`.
 */
import type { ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

const readOnly: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
/** Changes Brigade's state; destructive when it takes something away (a claim, a session). */
const writes = (o: { idempotent: boolean; destructive: boolean }): ToolAnnotations => ({
  readOnlyHint: false,
  destructiveHint: o.destructive,
  idempotentHint: o.idempotent,
  openWorldHint: false,
});

const message = z.string().describe("The result in words, as in the text content.");
const record = z.looseObject({});
const list = z.array(record);
const page = { items: list.optional(), nextCursor: z.string().nullable().optional() };
const session = record.describe("The session (id, repo, agent, status, expiresAt, …).");

const out = (shape: z.ZodRawShape) => z.looseObject({ message, ...shape });

export const toolCatalog: Record<string, { annotations: ToolAnnotations; output: z.ZodObject }> = {
  start_session: {
    annotations: writes({ idempotent: true, destructive: false }),
    output: out({ session: session.optional(), adopted: z.boolean().optional().describe("true: an existing session was adopted") }),
  },
  begin_work: {
    annotations: writes({ idempotent: false, destructive: false }),
    output: out({
      session: session.optional(),
      adopted: z.boolean().optional(),
      granted: z.boolean().optional(),
      claim: record.nullable().optional(),
      conflicts: list.optional(),
      alerts: z.array(z.string()).optional(),
    }),
  },
  heartbeat: {
    annotations: writes({ idempotent: true, destructive: false }),
    output: out({ id: z.string().optional(), status: z.string().optional(), expiresAt: z.string().optional() }),
  },
  end_session: { annotations: writes({ idempotent: true, destructive: true }), output: out({ session: session.optional() }) },
  claim_paths: {
    annotations: writes({ idempotent: false, destructive: false }),
    output: out({
      granted: z.boolean().optional(),
      claim: record.optional(),
      conflicts: list.optional(),
      queued: record.optional().describe("With onConflict queue when blocked: the queue entry (id, position, waitingFor)."),
    }),
  },
  // Leaving takes the session's place in line away.
  claim_queue: { annotations: writes({ idempotent: true, destructive: true }), output: out({ ...page, entry: record.optional() }) },
  release_claims: { annotations: writes({ idempotent: true, destructive: true }), output: out({ released: list.optional() }) },
  renew_claims: {
    annotations: writes({ idempotent: true, destructive: false }),
    output: out({ renewed: list.optional(), session: record.nullable().optional() }),
  },
  list_claims: { annotations: readOnly, output: out(page) },
  who_owns: { annotations: readOnly, output: out({}) },
  check_paths: {
    annotations: readOnly,
    output: out({
      repo: z.string().optional(),
      checked: z.number().optional(),
      violations: z.number().optional(),
      results: list.optional(),
    }),
  },
  report_touches: {
    annotations: writes({ idempotent: false, destructive: false }),
    output: out({ recorded: z.number().optional(), conflicts: list.optional() }),
  },
  list_alerts: { annotations: readOnly, output: out(page) },
  ack_alert: { annotations: writes({ idempotent: true, destructive: false }), output: out({ id: z.string().optional() }) },
  list_sessions: { annotations: readOnly, output: out(page) },
  request_handoff: { annotations: writes({ idempotent: false, destructive: false }), output: out({ id: z.string().optional() }) },
  answer_handoff: {
    annotations: writes({ idempotent: false, destructive: true }),
    output: out({ id: z.string().optional(), status: z.string().optional() }),
  },
  send_message: {
    annotations: writes({ idempotent: false, destructive: false }),
    output: out({ id: z.string().optional(), threadId: z.string().optional() }),
  },
  reply: {
    annotations: writes({ idempotent: false, destructive: false }),
    output: out({ id: z.string().optional(), threadId: z.string().optional() }),
  },
  inbox: { annotations: readOnly, output: out(page) },
  // Reading a thread marks its messages read for this reader: a write, harmless to repeat.
  read_thread: {
    annotations: writes({ idempotent: true, destructive: false }),
    output: out({ id: z.string().optional(), subject: z.string().optional(), messages: list.optional() }),
  },
  ack_message: {
    annotations: writes({ idempotent: true, destructive: false }),
    output: out({ id: z.string().optional(), acknowledgedAt: z.string().nullable().optional() }),
  },
  search_messages: { annotations: readOnly, output: out(page) },
  publish_contract: { annotations: writes({ idempotent: true, destructive: false }), output: out({}) },
  check_contract: { annotations: readOnly, output: out({}) },
  propose_contract_change: { annotations: writes({ idempotent: false, destructive: false }), output: out({}) },
};
