/**
 * Scenario `cli`: the local tools where they sit in someone's way, end to end, as installed: the
 * `@brigade/cli` package's `brigade` (packages/cli, built by `npm run build`).
 *
 * 1. `brigade check --staged` in a real git repository with 500 staged files: process start,
 *    git, one check request, output. Target ≤ 300 ms (median of BENCH_CLI_RUNS).
 * 2. `brigade hook pre-edit` (the command hook: the launcher loads the hook's own bundle) fed
 *    Claude Code's PreToolUse JSON, with the session SessionStart opened: an allowed edit (the
 *    check and the touch report, one request) and a denied one (the check and the refusal).
 *    Targets, median including process start: ≤ 150 ms, and ≤ 1.5× a bare `node -e 0` timed in
 *    turn with them.
 * 2b. Claude Code's HTTP hook served by the server (`cli-http-hook.ts`): p50/p99 of an allowed and
 *    a denied edit with 10,000 active claims in the repository; targets p50 ≤ 5 ms, p99 ≤ 20 ms.
 * 3. MCP `claim_paths` over stdio (`brigade mcp`, driven by the MCP SDK's client): round trip of
 *    a granted claim. Target p50 ≤ 20 ms.
 *
 * The ceiling column of 1 and 2 is a bare `node -e 0` (process start alone) on the same machine,
 * its runs taken in turn with theirs so that both see the same load. Brigade runs as in the
 * other scenarios: compiled, on the local PostgreSQL and NATS.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { api } from "../lib/api.js";
import { startBrigade } from "../lib/brigade.js";
import { onCleanup } from "../lib/cleanup.js";
import { numberEnv, repoRoot } from "../lib/env.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { httpHookRows } from "./cli-http-hook.js";

/** The package's launcher, as `npm install -g` links it. */
const CLI = join(repoRoot, "packages/cli/bin/brigade.cjs");
const HOOK_TARGET_RATIO = 1.5;
const STAGED_FILES = 500;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const round = (n: number) => Math.round(n * 10) / 10;

/** Wall time of one process, spawn to exit. */
function timed(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** `runs` rounds of each of `steps` in turn (after one warm-up round: page cache, the server's token cache). */
async function inTurn(runs: number, steps: (() => Promise<{ ms: number }>)[]): Promise<number[][]> {
  for (const step of steps) await step();
  const times = steps.map((): number[] => []);
  for (let i = 0; i < runs; i++) for (const [k, step] of steps.entries()) times[k]!.push((await step()).ms);
  return times;
}

export async function cli(context: ScenarioContext): Promise<Row[]> {
  const runs = numberEnv("BENCH_CLI_RUNS", 100);
  const mcpCalls = numberEnv("BENCH_CLI_MCP_CALLS", 200);
  const brigade = await startBrigade();
  const home = mkdtempSync(join(tmpdir(), "brigade-bench-cli-"));
  const forgetHome = onCleanup(async () => rmSync(home, { recursive: true, force: true }));
  const rows: Row[] = [];
  try {
    const admin = (method: "GET" | "POST" | "PUT", path: string, body?: unknown) =>
      api(brigade.url, brigade.bootstrapToken, method, path, body);
    const user = async (name: string) => {
      const created = (await admin("POST", "/v1/users", { name, role: "member" })).json<{ id: string }>();
      return (await admin("POST", "/v1/tokens", { name: "bench", userId: created.id })).json<{ token: string }>().token;
    };
    const [aliceToken, bobToken] = [await user("bench-alice"), await user("bench-bob")];
    // Someone else's live claims in the same repository, so the checks have something to find.
    const alice = (
      await api(brigade.url, aliceToken, "POST", "/v1/sessions", {
        agent: { name: "alice-agent", kind: "claude-code" },
        repo: "git@github.com:bench/app.git",
      })
    ).json<{
      session: { id: string };
      token: string;
    }>();
    for (let i = 0; i < 50; i++) {
      const res = await api(brigade.url, alice.token, "POST", "/v1/claims", {
        sessionId: alice.session.id,
        patterns: [`services/held-${i}/**`],
      });
      if (res.status !== 201) throw new Error(`claim failed: ${res.text}`);
    }

    // A repository with 500 staged files, as a large commit would have.
    const repo = join(home, "app");
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
    git("init", "-q", "-b", "main");
    git("remote", "add", "origin", "git@github.com:bench/app.git");
    for (let i = 0; i < STAGED_FILES; i++) {
      const dir = join(repo, "services", `mod-${i % 25}`, "src");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `file-${i}.ts`), `export const n = ${i};\n`);
    }
    git("add", "-A");
    const env = {
      PATH: process.env["PATH"],
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      BRIGADE_URL: brigade.url,
      BRIGADE_TOKEN: bobToken,
    };

    const bareNode = () => timed(["-e", "0"], { cwd: repo, env });

    context.log(`cli: check --staged with ${STAGED_FILES} staged files × ${runs}, in turn with node -e 0`);
    const [checkNodeStart, check] = await inTurn(runs, [
      bareNode,
      async () => {
        const r = await timed([CLI, "check", "--staged", "--json"], { cwd: repo, env });
        if (r.code !== 0) throw new Error(`check --staged exited ${r.code}: ${r.stderr}`);
        const out = JSON.parse(r.stdout) as { checked: number };
        if (out.checked !== STAGED_FILES) throw new Error(`checked ${out.checked} of ${STAGED_FILES}`);
        return r;
      },
    ]);
    const checkCeiling = round(quantile(checkNodeStart!, 0.5));
    rows.push(
      {
        metric: `check --staged, ${STAGED_FILES} files, one request (median)`,
        value: round(quantile(check!, 0.5)),
        unit: "ms",
        target: { op: "<=", value: 300 },
        ceiling: checkCeiling,
      },
      { metric: "check --staged p90", value: round(quantile(check!, 0.9)), unit: "ms", ceiling: checkCeiling },
    );

    context.log(`cli: hook pre-edit × ${runs} (allowed and denied), in turn with node -e 0`);
    const claudeSession = "bench-claude-session";
    const start = await timed([CLI, "hook", "session-start"], {
      cwd: repo,
      env,
      input: JSON.stringify({ session_id: claudeSession, cwd: repo, hook_event_name: "SessionStart", source: "startup" }),
    });
    if (start.code !== 0 || !start.stdout.includes("Your Brigade session is"))
      throw new Error(`session-start failed: ${start.stderr}${start.stdout}`);
    const preToolUse = (file: string) =>
      JSON.stringify({
        session_id: claudeSession,
        transcript_path: join(home, "t.jsonl"),
        cwd: repo,
        permission_mode: "default",
        hook_event_name: "PreToolUse",
        tool_name: "Edit",
        tool_input: { file_path: join(repo, file), old_string: "a", new_string: "b" },
        tool_use_id: "toolu_bench",
      });
    let n = 0;
    const [hookNodeStart, allowed, denied] = await inTurn(runs, [
      bareNode,
      async () => {
        const r = await timed([CLI, "hook", "pre-edit"], { cwd: repo, env, input: preToolUse(`services/mod-1/src/edit-${n++}.ts`) });
        if (r.code !== 0 || r.stdout.includes('"deny"')) throw new Error(`pre-edit (free file) gave ${r.code}: ${r.stdout}${r.stderr}`);
        return r;
      },
      async () => {
        const r = await timed([CLI, "hook", "pre-edit"], { cwd: repo, env, input: preToolUse("services/held-7/src/a.ts") });
        if (r.code !== 0 || !r.stdout.includes('"deny"')) throw new Error(`pre-edit (claimed file) gave ${r.code}: ${r.stdout}${r.stderr}`);
        return r;
      },
    ]);
    const ceiling = round(quantile(hookNodeStart!, 0.5));
    const startRatio = (times: number[]) => Math.round((quantile(times, 0.5) / ceiling) * 100) / 100;
    rows.push(
      {
        metric: "hook pre-edit, allowed: check + touch (median)",
        value: round(quantile(allowed!, 0.5)),
        unit: "ms",
        target: { op: "<=", value: 150 },
        ceiling,
      },
      {
        metric: "hook pre-edit, denied: check (median)",
        value: round(quantile(denied!, 0.5)),
        unit: "ms",
        target: { op: "<=", value: 150 },
        ceiling,
      },
      { metric: "hook pre-edit, allowed p90", value: round(quantile(allowed!, 0.9)), unit: "ms", ceiling },
      {
        metric: "hook pre-edit, allowed ÷ node -e 0 (medians)",
        value: startRatio(allowed!),
        unit: "×",
        target: { op: "<=", value: HOOK_TARGET_RATIO },
      },
      {
        metric: "hook pre-edit, denied ÷ node -e 0 (medians)",
        value: startRatio(denied!),
        unit: "×",
        target: { op: "<=", value: HOOK_TARGET_RATIO },
      },
    );

    rows.push(...(await httpHookRows(context, brigade, { holder: aliceToken, agent: bobToken }, ceiling)));

    context.log(`cli: MCP claim_paths over stdio × ${mcpCalls}`);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp"],
      cwd: repo,
      env: env as Record<string, string>,
      stderr: "pipe",
    });
    const mcp = new Client({ name: "brigade-bench", version: "1.0.0" });
    await mcp.connect(transport);
    try {
      const started = (await mcp.callTool({ name: "start_session", arguments: { agent: "bench-mcp" } })) as {
        isError?: boolean;
        content: { text: string }[];
      };
      if (started.isError) throw new Error(`start_session: ${started.content[0]?.text}`);
      const times: number[] = [];
      for (let i = 0; i < mcpCalls + 10; i++) {
        const t0 = performance.now();
        const r = (await mcp.callTool({ name: "claim_paths", arguments: { patterns: [`services/mcp-${i}/**`] } })) as {
          isError?: boolean;
          content: { text: string }[];
        };
        const ms = performance.now() - t0;
        if (r.isError) throw new Error(`claim_paths: ${r.content[0]?.text}`);
        if (i >= 10) times.push(ms); // the first calls warm the server's caches and the JIT
      }
      rows.push(
        {
          metric: "MCP claim_paths over stdio, granted (p50)",
          value: round(quantile(times, 0.5)),
          unit: "ms",
          target: { op: "<=", value: 20 },
        },
        { metric: "MCP claim_paths over stdio p99", value: round(quantile(times, 0.99)), unit: "ms" },
      );
    } finally {
      await mcp.close();
    }
    rows.push(
      { metric: "process start alone (node -e 0, median, in turn with check --staged)", value: checkCeiling, unit: "ms" },
      { metric: "process start alone (node -e 0, median, in turn with the hook)", value: ceiling, unit: "ms" },
    );
  } finally {
    await brigade.stop();
    rmSync(home, { recursive: true, force: true });
    forgetHome();
  }
  return rows;
}
