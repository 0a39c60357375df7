/**
 * Part of scenario `cli`: Claude Code's HTTP hook (`POST /v1/hooks/claude-code`), the edit check
 * an agent pays before every Edit when the hooks are served by the server itself: one kept-alive
 * request, no process start. With 10,000 other sessions' active claims in the repository
 * (BENCH_CLI_HOOK_CLAIMS), p50 and p99 of an allowed edit (`{}`) and a denied one (the reason
 * names the holder). Targets p50 ≤ 5 ms, p99 ≤ 20 ms.
 */
import { api } from "../lib/api.js";
import { KeepAliveClient } from "../lib/http-client.js";
import { numberEnv } from "../lib/env.js";
import { forEachConcurrent } from "../lib/pool.js";
import type { Row, ScenarioContext } from "../lib/types.js";

const REPO = "git@github.com:bench/hooks.git";
const WORKTREE = "/home/bench/hooks";
const CLAIMS_PER_SESSION = 500;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const round = (n: number) => Math.round(n * 100) / 100;

export async function httpHookRows(
  context: ScenarioContext,
  brigade: { url: string },
  tokens: { holder: string; agent: string },
  ceiling: number,
): Promise<Row[]> {
  const claims = numberEnv("BENCH_CLI_HOOK_CLAIMS", 10_000);
  const calls = numberEnv("BENCH_CLI_HOOK_CALLS", 1_000);
  context.log(`cli: HTTP hook with ${claims} active claims in the repository; ${calls} allowed and ${calls} denied edits`);
  // The holder's claims, spread over sessions of 500 claims each (as many agents would hold them).
  const sessions = Math.ceil(claims / CLAIMS_PER_SESSION);
  for (let s = 0; s < sessions; s++) {
    const started = await api(brigade.url, tokens.holder, "POST", "/v1/sessions", {
      agent: { name: `holder-${s}`, kind: "claude-code" },
      repo: REPO,
      ttlSeconds: 3600,
    });
    const { token } = started.json<{ token: string }>();
    const count = Math.min(CLAIMS_PER_SESSION, claims - s * CLAIMS_PER_SESSION);
    await forEachConcurrent(count, 16, async (i) => {
      const res = await api(brigade.url, token, "POST", "/v1/claims", {
        patterns: [`services/s${s}/held-${i}/**`],
        ttlSeconds: 3600,
      });
      if (res.status !== 201) throw new Error(`claim failed: ${res.text}`);
    });
  }

  const http = new KeepAliveClient(brigade.url, 1);
  try {
    const headers = {
      authorization: `Bearer ${tokens.agent}`,
      "content-type": "application/json",
      "x-brigade-repo": REPO,
      "x-brigade-worktree": WORKTREE,
    };
    const send = (body: object) => http.request("POST", "/v1/hooks/claude-code", headers, JSON.stringify(body));
    const base = { session_id: "bench-http-hook", cwd: WORKTREE, transcript_path: "/tmp/t.jsonl", permission_mode: "default" };
    const started = await send({ ...base, hook_event_name: "SessionStart", source: "startup" });
    if (started.status !== 200) throw new Error(`SessionStart: ${started.status} ${started.text}`);
    const edit = (file: string) =>
      send({
        ...base,
        hook_event_name: "PreToolUse",
        tool_name: "Edit",
        tool_input: { file_path: `${WORKTREE}/${file}`, old_string: "a", new_string: "b" },
        tool_use_id: "toolu_bench",
      });
    const measure = async (file: (i: number) => string, expectDeny: boolean) => {
      const times: number[] = [];
      for (let i = 0; i < calls + 50; i++) {
        const t0 = performance.now();
        const res = await edit(file(i));
        const ms = performance.now() - t0;
        const denied = res.text.includes('"deny"');
        if (res.status !== 200 || denied !== expectDeny) throw new Error(`hook edit gave ${res.status}: ${res.text}`);
        if (i >= 50) times.push(ms); // the first calls warm the caches and the JIT
      }
      return times;
    };
    const allowed = await measure((i) => `services/free-${i}/src/a.ts`, false);
    const denied = await measure((i) => `services/s${i % sessions}/held-${i % CLAIMS_PER_SESSION}/a.ts`, true);
    const row = (metric: string, values: number[], q: number, target: number): Row => ({
      metric,
      value: round(quantile(values, q)),
      unit: "ms",
      target: { op: "<=", value: target },
      ceiling,
    });
    return [
      row(`HTTP hook PreToolUse, allowed, ${claims} claims (p50)`, allowed, 0.5, 5),
      row("HTTP hook PreToolUse, allowed (p99)", allowed, 0.99, 20),
      row(`HTTP hook PreToolUse, denied, ${claims} claims (p50)`, denied, 0.5, 5),
      row("HTTP hook PreToolUse, denied (p99)", denied, 0.99, 20),
    ];
  } finally {
    http.close();
  }
}
