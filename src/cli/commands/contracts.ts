import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { BrigadeError, ok, type Schemas } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { CliError, describeError, EXIT_FAILED, usageError } from "../errors.js";
import { git } from "../git.js";

type Change = Schemas["ContractChange"];
type Incompatibility = Schemas["ContractIncompatibility"];
type Summary = Schemas["ContractChangeSummary"];

function readSpec(ctx: Context, file: string): string {
  const path = resolve(ctx.cwd, file);
  if (!existsSync(path)) throw usageError(`no such file: ${file}`);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The label a version gets when none is given: the commit it comes from. */
async function defaultLabel(ctx: Context): Promise<string> {
  try {
    return (await git(["rev-parse", "--short=12", "HEAD"], ctx.cwd)).trim();
  } catch {
    throw usageError(
      "give the version a label with --label (a semver or a git sha); outside a git repository there is no commit to name it after",
    );
  }
}

const summaryText = (s: Summary) =>
  `${s.breaking} breaking, ${s.dangerous ?? 0} dangerous, ${s.nonBreaking} non-breaking, ${s.annotation} annotation, ${s.unclassified} unclassified`;
const changeLines = (changes: Change[], total: number) => [
  ...changes.slice(0, 50).map((c) => `  ${c.level.padEnd(13)} ${c.action ?? ""} ${c.location}: ${c.message}`),
  ...(total > 50 ? [`  … ${total - 50} more (--json lists up to 1,000)`] : []),
];
const breakingLines = (breaking: Incompatibility[]) =>
  breaking.slice(0, 50).map((b) => `  ✗ ${b.location}: ${b.message} (${b.direction}, against ${b.against})`);

export async function list(ctx: Context, options: { repo?: string }) {
  const page = await ok(
    ctx.client("user").api.GET("/v1/contracts", { params: { query: { ...(options.repo ? { repo: options.repo } : {}), limit: 200 } } }),
  );
  ctx.out.result(page, () =>
    page.items.length === 0
      ? "No contracts."
      : page.items
          .map(
            (c) =>
              `${c.name.padEnd(24)} ${c.kind.padEnd(12)} ${c.compatibility.padEnd(10)} latest ${c.latestVersion?.label ?? "—"}, ${c.consumers.length} consumer${c.consumers.length === 1 ? "" : "s"}${c.source ? `, source ${c.source.repo} ${c.source.patterns.join(" ")}` : ""}`,
          )
          .join("\n"),
  );
}

export async function publish(ctx: Context, name: string, file: string, options: { label?: string; force?: boolean; reason?: string }) {
  if (options.force && !options.reason) throw usageError("--force needs --reason (it is sent to the consumers)");
  const content = readSpec(ctx, file);
  const label = options.label ?? (await defaultLabel(ctx));
  const session = await ctx.session();
  try {
    const v = await ok(
      ctx.client("session", session).api.POST("/v1/contracts/{name}/versions", {
        params: { path: { name } },
        body: {
          content,
          label,
          ...(session ? { sessionId: session.id } : {}),
          force: Boolean(options.force),
          ...(options.reason ? { reason: options.reason } : {}),
        },
      }),
    );
    ctx.out.result(v, () =>
      [
        v.created
          ? `Published ${name} ${v.label}${v.previousLabel ? ` (after ${v.previousLabel})` : ""}: ${summaryText(v.summary)}`
          : `${name} ${v.label} already holds this content; nothing new was published`,
        ...(v.forced ? [`Forced over ${v.breaking.length} incompatibilit${v.breaking.length === 1 ? "y" : "ies"}: ${v.forceReason}`] : []),
      ].join("\n"),
    );
  } catch (err) {
    if (!(err instanceof BrigadeError) || err.code !== "contracts.incompatible") throw err;
    const breaking = (err.problem["breaking"] ?? []) as Incompatibility[];
    if (ctx.out.json) {
      const { message, code, status } = describeError(err);
      process.stdout.write(`${JSON.stringify({ error: { code, message, status }, breaking })}\n`);
    }
    ctx.out.note(
      `brigade: not published: ${breaking.length} incompatible change${breaking.length === 1 ? "" : "s"} under the ${String(err.problem["policy"] ?? "")} policy (contracts.incompatible)`,
    );
    for (const line of breakingLines(breaking)) ctx.out.note(line);
    ctx.out.note('  Propose it to the consumers first (brigade contracts propose), or publish with --force --reason "…"');
    return EXIT_FAILED;
  }
}

export async function check(ctx: Context, name: string, file: string, options: { label?: string }) {
  const content = readSpec(ctx, file);
  const result = await ok(
    ctx.client("user").api.POST("/v1/contracts/{name}/check", {
      params: { path: { name } },
      body: { content, ...(options.label ? { label: options.label } : {}) },
    }),
  );
  ctx.out.result(result, () =>
    [
      `${name}: ${result.outcome}${result.latest ? ` against ${result.latest}` : ""} (${result.policy} policy): ${summaryText(result.summary)}`,
      ...breakingLines(result.breaking),
      ...changeLines(result.changes, result.changesTotal),
    ].join("\n"),
  );
  return result.outcome === "incompatible" || result.outcome === "label_conflict" ? EXIT_FAILED : 0;
}

export async function propose(ctx: Context, name: string, file: string, options: { label?: string; reason?: string }) {
  const content = readSpec(ctx, file);
  const session = await ctx.session();
  const p = await ok(
    ctx.client("session", session).api.POST("/v1/contracts/{name}/proposals", {
      params: { path: { name } },
      body: {
        content,
        ...(options.label ? { label: options.label } : {}),
        ...(options.reason ? { description: options.reason } : {}),
        ...(session ? { sessionId: session.id } : {}),
      },
    }),
  );
  ctx.out.result(p, () =>
    [
      `Proposed a change to ${name} (proposal ${p.id}) from ${p.baseLabel ?? "nothing"}: ${summaryText(p.summary)}; ${p.pending.length} consumer${p.pending.length === 1 ? "" : "s"} alerted`,
      ...breakingLines(p.breaking),
    ].join("\n"),
  );
}

export async function diff(ctx: Context, name: string, from: string | undefined, to: string | undefined) {
  const client = ctx.client("user");
  if (from && existsSync(resolve(ctx.cwd, from))) {
    if (to) throw usageError("compare a file with the latest version only: brigade contracts diff <name> <file>");
    return check(ctx, name, from, {});
  }
  let fromRef = from;
  if (!fromRef) {
    const latest = await ok(
      client.api.GET("/v1/contracts/{name}/versions/{version}", { params: { path: { name, version: to ?? "latest" } } }),
    );
    if (!latest.previousLabel) throw new CliError(`${name} ${latest.label} is its first version: nothing to compare it with`);
    fromRef = latest.previousLabel;
  }
  const d = await ok(
    client.api.GET("/v1/contracts/{name}/diff", { params: { path: { name }, query: { from: fromRef, to: to ?? "latest" } } }),
  );
  ctx.out.result(d, () =>
    [`${d.contract} ${d.from} → ${d.to}: ${summaryText(d.summary)}`, ...changeLines(d.changes, d.changesTotal)].join("\n"),
  );
}
