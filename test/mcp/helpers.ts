import type { Client } from "@modelcontextprotocol/sdk/client/index.js";

export interface ToolResult {
  text: string;
  isError: boolean;
  structured: any;
}

/** Calls a tool and returns its text, error flag and structured content. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as {
    content: { type: string; text?: string }[];
    isError?: boolean;
    structuredContent?: unknown;
  };
  return {
    text: result.content.map((c) => c.text ?? "").join("\n"),
    isError: Boolean(result.isError),
    structured: result.structuredContent,
  };
}

export const TOOLS = [
  "start_session",
  "end_session",
  "claim_paths",
  "release_claims",
  "claim_queue",
  "renew_claims",
  "who_owns",
  "check_paths",
  "report_touches",
  "list_alerts",
  "ack_alert",
  "list_sessions",
  "request_handoff",
  "answer_handoff",
];
