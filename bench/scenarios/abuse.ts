/**
 * Scenario `abuse`: one organisation's member runs each hostile request shape of issue 17
 * while another organisation's clients make ordinary requests (`GET /v1/me`), and the victims'
 * latency is compared with the same clients' latency in the same run without an attack.
 *
 * Attacks, each repeated back to back for BENCH_ABUSE_SECONDS (5):
 * - claims: 256 patterns of 16 wildcards over a claim of 256 such patterns already held, each
 *   pair's overlap search exhaustive (no two ever overlap), a new set of patterns every time;
 * - check: `POST /v1/repos/{repo}/check` with 1,000 deep paths against 256 held wildcard-heavy patterns;
 * - fan-out: a 1.7 KB JSON Schema whose `$ref`s fan out exponentially, checked against a
 *   published version of the same shape (with a session token);
 * - deep: a JSON Schema nested 20,000 levels;
 * - sdl: 2 MB of GraphQL SDL.
 *
 * Rows: victims' p50 and p99 per attack beside the unattacked ones (the ceiling; ratio =
 * attacked / unattacked), and what the attacker got back. Target: victims' p99 ≤ 2× the
 * unattacked p99 and ≤ 50 ms.
 */
import { api } from "../lib/api.js";
import { startBrigade } from "../lib/brigade.js";
import { numberEnv } from "../lib/env.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { median, percentile } from "./claims/micro.js";

const VICTIMS = 4;
const ABSOLUTE_P99_MS = 50;

const run = (seed: number, n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((seed * 7 + i * 3) % 26))).join("");

/** 256 anchored 16-wildcard patterns that overlap no other claim's: every pair's search is exhaustive. */
const exhaustive = (claim: number) =>
  Array.from({ length: 256 }, (_, i) => {
    let text = "/";
    for (let k = 0; k < 15; k++) text += `*${run(claim * 977 + i * 31 + k, 3)}`;
    return `${text}${claim.toString(36)}Z${i}/*`;
  });
const starry = Array.from({ length: 256 }, (_, i) => Array.from({ length: 16 }, (_, k) => `*${run(i * 31 + k, 3)}`).join(""));
const deepPath = (n: number) => {
  let path = "";
  for (let i = n; path.length < 800; i++)
    path += `${path ? "/" : ""}${Array.from({ length: 16 }, (_, k) => run((i % 256) * 31 + k, 3)).join("")}`;
  return path;
};
const fanOut = (n: number, leaf: string) => {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    defs[`a${i}`] = { type: "object", properties: { x: { $ref: `#/$defs/a${i + 1}` }, y: { $ref: `#/$defs/a${i + 1}` } } };
  defs[`a${n}`] = { type: leaf };
  return JSON.stringify({ $defs: defs, $ref: "#/$defs/a0" });
};
const deep = (depth: number) => `${'{"type":"object","properties":{"a":'.repeat(depth)}{"type":"string"}${"}}".repeat(depth)}`;
const bigSdl = () => {
  let sdl = "type Query { t: T0 }\n";
  for (let i = 0; sdl.length < 2_000_000; i++) sdl += `type T${i} { a: String b: Int c: [T${i}] }\n`;
  return sdl;
};

interface Attack {
  name: string;
  /** One attacking request; `round` varies it so no cache answers it. */
  request(round: number): Promise<number>;
}

/** Victims' `GET /v1/me` latencies over `seconds`, while `attack` (if any) repeats meanwhile. */
async function measure(base: string, victimToken: string, seconds: number, attack?: Attack) {
  const until = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  const victim = async () => {
    while (performance.now() < until) {
      const start = performance.now();
      // A refused or reset connection is a failure to report beside the statuses, not a reason to stop measuring.
      const status = await api(base, victimToken, "GET", "/v1/me").then(
        (res) => String(res.status),
        (err: Error) => String((err.cause as { code?: string } | undefined)?.code ?? err.message),
      );
      latencies.push(performance.now() - start);
      if (status !== "200") codes[`victim ${status}`] = (codes[`victim ${status}`] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const attacker = async () => {
    for (let round = 0; attack && performance.now() < until; round++) {
      const status = await attack.request(round).catch(() => 0);
      codes[status] = (codes[status] ?? 0) + 1;
    }
  };
  await Promise.all([...Array.from({ length: VICTIMS }, victim), attacker()]);
  return { p50: median(latencies), p99: percentile(latencies, 99), count: latencies.length, codes };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function abuse(context: ScenarioContext): Promise<Row[]> {
  const seconds = numberEnv("BENCH_ABUSE_SECONDS", 5);
  const brigade = await startBrigade();
  try {
    const base = brigade.url;
    const admin = brigade.bootstrapToken;
    const must = async (what: string, p: Promise<{ status: number; text: string; json<T>(): T }>, status = 201) => {
      const res = await p;
      if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
      // biome-ignore lint/suspicious/noExplicitAny: set-up answers of several shapes, read a field or two each
      return res.json<any>();
    };
    context.log("abuse: setting up two organisations");
    const user = await must("user", api(base, admin, "POST", "/v1/users", { name: "mallory", role: "member" }));
    const token = (await must("token", api(base, admin, "POST", "/v1/tokens", { name: "bench", userId: user.id }))).token as string;
    const other = await must("org", api(base, admin, "POST", "/v1/orgs", { slug: "victims", name: "Victims", admin: { name: "vic" } }));
    const victimToken = other.token.token as string;
    const session = async (repo: string) =>
      must("session", api(base, token, "POST", "/v1/sessions", { agent: { name: `m-${repo.length}-${Math.random()}` }, repo })) as Promise<{
        session: { id: string };
        token: string;
      }>;
    const held = await session("github.com/acme/abuse");
    const asking = await session("github.com/acme/abuse");
    await must(
      "held claim",
      api(base, token, "POST", "/v1/claims", { sessionId: held.session.id, patterns: exhaustive(0), mode: "exclusive" }),
    );
    const deepHeld = await session("github.com/acme/deep");
    await must(
      "starry claim",
      api(base, token, "POST", "/v1/claims", { sessionId: deepHeld.session.id, patterns: starry, mode: "shared" }),
    );
    const paths = Array.from({ length: 1000 }, (_, i) => deepPath(i));
    const team = await must("team", api(base, admin, "POST", "/v1/teams", { name: "abusers" }));
    await must("member", api(base, admin, "PUT", `/v1/teams/${team.id}/members/${user.id}`), 200).catch(() => undefined);
    for (const [name, kind] of [
      ["fan", "jsonschema"],
      ["deep", "jsonschema"],
      ["sdl", "graphql"],
    ] as const)
      await must("contract", api(base, token, "POST", "/v1/contracts", { name, kind, providerTeamId: team.id }));
    await must("fan 1.0.0", api(base, token, "POST", "/v1/contracts/fan/versions", { label: "1.0.0", content: fanOut(18, "string") }));
    const sdl = bigSdl();

    const attacks: Attack[] = [
      {
        name: "claims: 256 × 16-wildcard patterns over 256 held",
        request: async (r) =>
          (await api(base, token, "POST", "/v1/claims", { sessionId: asking.session.id, patterns: exhaustive(r + 1), onConflict: "warn" }))
            .status,
      },
      {
        name: "check: 1,000 deep paths",
        request: async () =>
          (await api(base, deepHeld.token, "POST", `/v1/repos/${encodeURIComponent("github.com/acme/deep")}/check`, { paths })).status,
      },
      {
        name: "contracts: exponential $ref fan-out",
        request: async (r) =>
          (await api(base, held.token, "POST", "/v1/contracts/fan/check", { content: fanOut(18 + (r % 4), "integer") })).status,
      },
      {
        name: "contracts: schema 20,000 deep",
        request: async (r) => (await api(base, held.token, "POST", "/v1/contracts/deep/check", { content: deep(20_000 + r) })).status,
      },
      {
        name: "contracts: 2 MB GraphQL SDL",
        request: async (r) =>
          (await api(base, held.token, "POST", "/v1/contracts/sdl/check", { content: `${sdl}type X${r} { a: Int }\n` })).status,
      },
    ];

    context.log(`abuse: victims alone for ${seconds} s`);
    const baseline = await measure(base, victimToken, seconds);
    const target = Math.min(ABSOLUTE_P99_MS, 2 * baseline.p99);
    const rows: Row[] = [
      { metric: "victims GET /v1/me p50, no attack", value: round1(baseline.p50), unit: "ms", note: `${baseline.count} requests` },
      {
        metric: "victims GET /v1/me p99, no attack",
        value: round1(baseline.p99),
        unit: "ms",
        target: { op: "<=", value: ABSOLUTE_P99_MS },
      },
    ];
    for (const attack of attacks) {
      context.log(`abuse: ${attack.name} for ${seconds} s`);
      const attacked = await measure(base, victimToken, seconds, attack);
      if (Object.keys(attacked.codes).some((code) => code.startsWith("victim")))
        // The server's own last words say why victims were refused, which the statuses cannot.
        for (const line of brigade.process.lines.slice(-30)) context.log(`brigade ${line.stream}: ${line.text.slice(0, 400)}`);
      const attackerCodes = Object.entries(attacked.codes)
        .map(([code, n]) => `${code}×${n}`)
        .join(", ");
      rows.push(
        { metric: `victims p50 during ${attack.name}`, value: round1(attacked.p50), unit: "ms", ceiling: round1(baseline.p50) },
        {
          metric: `victims p99 during ${attack.name}`,
          value: round1(attacked.p99),
          unit: "ms",
          ceiling: round1(baseline.p99),
          target: { op: "<=", value: round1(target) },
          note: `attacker got ${attackerCodes}; ${attacked.count} victim requests`,
        },
        {
          metric: `no 5xx for ${attack.name}`,
          value: Object.keys(attacked.codes).some((c) => c.startsWith("5") || c === "0" || c.startsWith("victim")) ? "no" : "yes",
          target: { op: "=", value: "yes" },
        },
      );
    }
    return rows;
  } finally {
    await brigade.stop();
  }
}
