import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { BrigadeError, ok } from "../../sdk/client.js";
import { failure, sessionIdArg, sessionScope, text, tool, type McpContext, registerTool } from "./shared.js";

type Incompatibility = { location: string; message: string; direction: string; against: string };
const breakingText = (breaking: Incompatibility[]) =>
  breaking.slice(0, 25).map((b) => `- ${b.location}: ${b.message} (${b.direction}, against ${b.against})`);
const contractName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/)
  .max(100)
  .describe("The contract's name, e.g. orders-api");

/** Interface contracts: publish a version, dry-run a change, propose one to the consumers. */
export function registerContractTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);
  const contentArgs = {
    content: z
      .string()
      .min(1)
      .optional()
      .describe("The spec text: OpenAPI/AsyncAPI/JSON Schema (YAML or JSON), GraphQL SDL, or plain text"),
    ...(ctx.readFile
      ? { file: z.string().min(1).optional().describe("Or a file to read the spec from (relative to the repository folder)") }
      : {}),
  };
  const contentOf = async (args: { content?: string | undefined; file?: string | undefined }) => {
    if (args.content) return args.content;
    if (args.file && ctx.readFile) return ctx.readFile(args.file);
    throw new BrigadeError({
      status: 400,
      code: "mcp.no_content",
      title: "No content",
      detail: `Pass content${ctx.readFile ? " or file" : ""}: the spec to publish or propose`,
    });
  };
  const optionalSession = (id: string | undefined) => {
    const current = ctx.current();
    return id ? sessionFor(id) : current;
  };

  registerTool(
    server,
    "publish_contract",
    {
      title: "Publish a contract version",
      description:
        "Publish a new version of an interface contract you provide (an API spec, an event schema…). It is checked against the contract's compatibility policy: " +
        "an incompatible version is refused with every breaking change listed; then propose it to the consumers (propose_contract_change), or force it with a reason.",
      inputSchema: {
        name: contractName,
        ...contentArgs,
        label: z.string().min(1).max(128).describe("The version's label: a semver (1.4.0) or the git sha it comes from"),
        force: z.boolean().optional().describe("Publish even if incompatible (needs reason; consumers are alerted)"),
        reason: z.string().min(1).max(2000).optional(),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = optionalSession(args.sessionId);
      const content = await contentOf(args as { content?: string; file?: string });
      try {
        const v = await ok(
          (s ? clientFor(s) : ctx.client()).api.POST("/v1/contracts/{name}/versions", {
            params: { path: { name: args.name } },
            body: {
              content,
              label: args.label,
              force: Boolean(args.force),
              ...(args.reason ? { reason: args.reason } : {}),
              ...(s ? { sessionId: s.id } : {}),
            },
          }),
        );
        const s2 = v.summary;
        return text(
          v.created
            ? `Published ${args.name} ${v.label}${v.previousLabel ? ` after ${v.previousLabel}` : ""}: ${s2.breaking} breaking, ${s2.nonBreaking} non-breaking change(s)${v.forced ? ` (forced: ${v.forceReason})` : ""}. Consumers are notified.`
            : `${args.name} ${v.label} already holds this content; nothing new was published.`,
          v as unknown as Record<string, unknown>,
        );
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.code !== "contracts.incompatible") throw err;
        const breaking = (err.problem["breaking"] ?? []) as Incompatibility[];
        return failure(
          `Not published: ${breaking.length} incompatible change(s) under the ${String(err.problem["policy"] ?? "")} policy would break consumers:\n${breakingText(breaking).join("\n")}\n` +
            "Options: make the change compatible; propose it to the consumers with propose_contract_change and wait for their answers; or publish with force and a reason.",
          { published: false, breaking },
        );
      }
    }),
  );

  registerTool(
    server,
    "check_contract",
    {
      title: "Check a contract change",
      description:
        "Dry run: would this content publish under the contract's compatibility policy? Lists the changes from the latest version and any breaking ones. Stores nothing.",
      inputSchema: { name: contractName, ...contentArgs, label: z.string().min(1).max(128).optional() },
    },
    tool(async (args) => {
      const content = await contentOf(args as { content?: string; file?: string });
      const r = await ok(
        ctx.client().api.POST("/v1/contracts/{name}/check", {
          params: { path: { name: args.name } },
          body: { content, ...(args.label ? { label: args.label } : {}) },
        }),
      );
      return text(
        `${args.name}: ${r.outcome}${r.latest ? ` against ${r.latest}` : ""} (${r.policy} policy): ${r.summary.breaking} breaking, ${r.summary.nonBreaking} non-breaking change(s).` +
          (r.breaking.length ? `\n${breakingText(r.breaking).join("\n")}` : ""),
        r as unknown as Record<string, unknown>,
      );
    }),
  );

  registerTool(
    server,
    "propose_contract_change",
    {
      title: "Propose a contract change",
      description:
        "Propose new content for a contract you provide before publishing it: every consumer is alerted with the diff and can ack or object. " +
        "Use it for breaking changes; publishing the same content later closes the proposal.",
      inputSchema: {
        name: contractName,
        ...contentArgs,
        label: z.string().min(1).max(128).optional().describe("The label it is meant to be published under"),
        description: z.string().min(1).max(4000).optional().describe("What changes and why, for the consumers"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = optionalSession(args.sessionId);
      const content = await contentOf(args as { content?: string; file?: string });
      const p = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/contracts/{name}/proposals", {
          params: { path: { name: args.name } },
          body: {
            content,
            ...(args.label ? { label: args.label } : {}),
            ...(args.description ? { description: args.description } : {}),
            ...(s ? { sessionId: s.id } : {}),
          },
        }),
      );
      return text(
        `Proposal ${p.id} for ${args.name} (from ${p.baseLabel ?? "no version"}): ${p.summary.breaking} breaking, ${p.summary.nonBreaking} non-breaking change(s); ${p.pending.length} consumer(s) alerted. ` +
          "Their answers arrive as alerts (list_alerts); publish with publish_contract once they agree.",
        p as unknown as Record<string, unknown>,
      );
    }),
  );
}
