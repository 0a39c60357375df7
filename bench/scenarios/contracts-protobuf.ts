/**
 * Part of scenario `contracts`: checking a large Protocol Buffers package.
 *
 * A seeded generator writes one package (`acme.platform.v1`) of 500 messages over 20 files
 * (each importing the files before it), with 20 enums and 10 services of 10 RPCs; messages have
 * 6 to 14 fields of scalar, enum, message, repeated and map types, some in oneofs, some with
 * reserved numbers. A protobuf contract (category FILE) gets it as 1.0.0; then
 * BENCH_PROTO_CHECKS (25) candidates with a few changes each (fields added, enum values added,
 * RPCs added; every 5th also deletes a field, which FILE calls breaking) go through
 * `POST /v1/contracts/{name}/check`, the question a CI job asks before merging.
 *
 * Target: check p50 ≤ 200 ms (harness clock). Checks: every check answered 200, breaking changes
 * found exactly in the breaking candidates.
 */
import type { BrigadeServer } from "../lib/brigade.js";
import { api } from "../lib/api.js";
import { numberEnv } from "../lib/env.js";
import { Rng } from "../lib/synthetic.js";
import type { Row } from "../lib/types.js";
import { median, percentile } from "./claims/micro.js";

const target = { p50Ms: 200 };
const MESSAGES = 500;
const FILES = 20;
const ENUMS = 20;
const SERVICES = 10;
const RPCS = 10;
const BREAKING_EVERY = 5;
const PACKAGE = "acme.platform.v1";
const SCALARS = ["string", "int32", "int64", "uint32", "bool", "double", "bytes", "sint64", "fixed32"] as const;

interface Field {
  name: string;
  number: number;
  type: string;
  repeated: boolean;
  oneof: string | null;
}
interface Message {
  name: string;
  file: number;
  fields: Field[];
  reserved: number[];
}
interface Model {
  messages: Message[];
  enums: { name: string; file: number; values: string[] }[];
  services: { name: string; file: number; rpcs: { name: string; request: string; response: string; stream: boolean }[] }[];
}

const fileName = (i: number) => `acme/platform/v1/part_${String(i).padStart(2, "0")}.proto`;

export function generate(rng: Rng): Model {
  const model: Model = { messages: [], enums: [], services: [] };
  for (let e = 0; e < ENUMS; e++) {
    const name = `Status${e}`;
    const prefix = `STATUS${e}`;
    model.enums.push({
      name,
      file: e % FILES,
      values: [`${prefix}_UNSPECIFIED`, ...Array.from({ length: 3 + rng.int(6) }, (_, i) => `${prefix}_V${i + 1}`)],
    });
  }
  for (let m = 0; m < MESSAGES; m++) {
    const file = Math.floor((m * FILES) / MESSAGES);
    const fields: Field[] = [];
    const count = 6 + rng.int(9);
    let number = 1;
    for (let f = 0; f < count; f++) {
      const pick = rng.int(10);
      let type: string = SCALARS[rng.int(SCALARS.length)]!;
      // Only types declared in this file or an earlier one, so imports stay acyclic.
      if (pick < 2 && m > 0) type = model.messages[rng.int(m)]!.name;
      else if (pick < 4) {
        const candidates = model.enums.filter((e) => e.file <= file);
        if (candidates.length) type = candidates[rng.int(candidates.length)]!.name;
      } else if (pick === 4) type = `map<string, ${SCALARS[rng.int(3)]}>`;
      fields.push({
        name: `field_${f}_${type.replace(/\W+/g, "_").toLowerCase()}`.slice(0, 40),
        number: number++,
        type,
        repeated: pick === 5,
        oneof: pick === 6 ? "choice" : null,
      });
      if (rng.int(12) === 0) number++; // a gap, reserved below
    }
    const used = new Set(fields.map((f) => f.number));
    const reserved = Array.from({ length: number - 1 }, (_, i) => i + 1).filter((n) => !used.has(n));
    model.messages.push({ name: `Entity${m}`, file, fields, reserved });
  }
  for (let s = 0; s < SERVICES; s++) {
    // In the last file, which imports every other, so each RPC's types are in scope.
    const file = FILES - 1;
    const rpcs = Array.from({ length: RPCS }, (_, r) => ({
      name: `Call${r}`,
      request: model.messages[rng.int(MESSAGES)]!.name,
      response: model.messages[rng.int(MESSAGES)]!.name,
      stream: rng.int(5) === 0,
    }));
    model.services.push({ name: `Service${s}`, file, rpcs });
  }
  return model;
}

function fieldLine(f: Field): string {
  const label = f.repeated && !f.type.startsWith("map<") && !f.oneof ? "repeated " : "";
  return `${label}${f.type} ${f.name} = ${f.number};`;
}

/** The files of the model: JSON object of path → text, as a contract's content. */
export function spell(model: Model): string {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) {
    const lines = ['syntax = "proto3";', `package ${PACKAGE};`, 'option go_package = "example.com/acme/platform/v1;platformv1";', ""];
    for (let j = 0; j < i; j++) lines.push(`import "${fileName(j)}";`);
    for (const e of model.enums.filter((e) => e.file === i)) {
      lines.push(`// ${e.name} says where a thing stands.`, `enum ${e.name} {`);
      e.values.forEach((v, n) => lines.push(`  ${v} = ${n};`));
      lines.push("}");
    }
    for (const m of model.messages.filter((m) => m.file === i)) {
      lines.push(`// ${m.name} is one of the platform's records.`, `message ${m.name} {`);
      if (m.reserved.length) lines.push(`  reserved ${m.reserved.join(", ")};`);
      const plain = m.fields.filter((f) => !f.oneof);
      const inOneof = m.fields.filter((f) => f.oneof);
      for (const f of plain) lines.push(`  ${fieldLine(f)}`);
      if (inOneof.length) {
        lines.push("  oneof choice {");
        for (const f of inOneof) lines.push(`    ${fieldLine(f)}`);
        lines.push("  }");
      }
      lines.push("}");
    }
    for (const s of model.services.filter((s) => s.file === i)) {
      lines.push(`service ${s.name} {`);
      for (const r of s.rpcs) lines.push(`  rpc ${r.name}(${r.request}) returns (${r.stream ? "stream " : ""}${r.response});`);
      lines.push("}");
    }
    files[fileName(i)] = `${lines.join("\n")}\n`;
  }
  return JSON.stringify(files);
}

/** A candidate: a few compatible changes, and with `breaking` a field deleted too. */
export function evolve(model: Model, rng: Rng, step: number, breaking: boolean): Model {
  const next: Model = structuredClone(model);
  for (let i = 0; i < 3; i++) {
    const m = next.messages[rng.int(MESSAGES)]!;
    const number = Math.max(...m.fields.map((f) => f.number), ...m.reserved, 0) + 1;
    m.fields.push({ name: `added_${step}_${i}`, number, type: "string", repeated: false, oneof: null });
  }
  const e = next.enums[rng.int(ENUMS)]!;
  e.values.push(`${e.name.toUpperCase()}_ADDED_${step}`);
  next.services[rng.int(SERVICES)]!.rpcs.push({ name: `Added${step}`, request: "Entity1", response: "Entity2", stream: false });
  if (breaking) {
    const m = next.messages.find((m, i) => i >= step && m.fields.length > 2)!;
    m.fields.pop();
  }
  return next;
}

interface Check {
  status: number;
  ms: number;
  outcome: string | null;
  breaking: number | null;
  body: string;
}

async function check(brigade: BrigadeServer, contract: string, body: string): Promise<Check> {
  const started = performance.now();
  const response = await fetch(`${brigade.url}/v1/contracts/${contract}/check`, {
    method: "POST",
    headers: { authorization: `Bearer ${brigade.bootstrapToken}`, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: { outcome?: string; summary?: { breaking?: number } } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Reported through status and body.
  }
  return { status: response.status, ms, outcome: parsed.outcome ?? null, breaking: parsed.summary?.breaking ?? null, body: text };
}

const round = (n: number) => Math.round(n * 10) / 10;

export interface ProtobufRun {
  rows: Row[];
  window: [number, number];
}

export async function measureProtobuf(log: (line: string) => void, brigade: BrigadeServer, seed: number): Promise<ProtobufRun> {
  const checks = Math.max(1, Math.round(numberEnv("BENCH_PROTO_CHECKS", 25)));
  const token = brigade.bootstrapToken;
  const rng = new Rng(seed ^ 0x9b0f);
  const model = generate(rng);
  const content = spell(model);
  const team = await api(brigade.url, token, "POST", "/v1/teams", { name: "platform-proto" });
  if (team.status !== 201) throw new Error(`protobuf team: ${team.status} ${team.text.slice(0, 300)}`);
  const created = await api(brigade.url, token, "POST", "/v1/contracts", {
    name: "platform-proto",
    kind: "protobuf",
    providerTeamId: team.json<{ id: string }>().id,
  });
  if (created.status !== 201) throw new Error(`protobuf contract: ${created.status} ${created.text.slice(0, 300)}`);
  const published = await api(brigade.url, token, "POST", "/v1/contracts/platform-proto/versions", { label: "1.0.0", content }, 120_000);
  if (published.status !== 201) throw new Error(`protobuf 1.0.0: ${published.status} ${published.text.slice(0, 300)}`);
  log(
    `protobuf: ${MESSAGES} messages, ${ENUMS} enums, ${SERVICES * RPCS} RPCs in ${FILES} files (${Math.round(content.length / 1024)} KB) published as 1.0.0`,
  );

  const from = Date.now();
  const results: (Check & { breakingMeant: boolean })[] = [];
  for (let step = 1; step <= checks; step++) {
    const breakingMeant = step % BREAKING_EVERY === 0;
    const body = JSON.stringify({ content: spell(evolve(model, rng, step, breakingMeant)) });
    const result = await check(brigade, "platform-proto", body);
    results.push({ ...result, breakingMeant });
    log(`protobuf check ${step}: ${result.status} ${result.outcome} ${result.ms.toFixed(0)} ms (${result.breaking ?? "?"} breaking)`);
  }
  const to = Date.now();
  const ms = results.map((r) => r.ms);
  const failed = results.filter((r) => r.status !== 200);
  const misjudged = results.filter((r) => r.status === 200 && (r.outcome === "incompatible") !== r.breakingMeant);
  return {
    window: [from, to],
    rows: [
      {
        metric: "PROTOBUF: check latency p50",
        value: round(median(ms)),
        unit: "ms",
        target: { op: "<=", value: target.p50Ms },
        note: `${checks} candidates of a ${MESSAGES}-message package (${FILES} files, ${Math.round(content.length / 1024)} KB) against 1.0.0, category FILE`,
      },
      { metric: "PROTOBUF: check latency p99", value: round(percentile(ms, 99)), unit: "ms" },
      {
        metric: "PROTOBUF: publish of 1.0.0 (no diff)",
        value: "201",
        note: "the first version: parse and store only",
      },
      {
        metric: "PROTOBUF: checks answered and judged as intended",
        value: `${checks - failed.length - misjudged.length} / ${checks}`,
        target: { op: "=", value: `${checks} / ${checks}` },
        ...(failed.length || misjudged.length
          ? {
              note: [...failed, ...misjudged]
                .slice(0, 3)
                .map((r) => `${r.status} ${r.outcome} ${r.body.slice(0, 200)}`)
                .join(" | "),
            }
          : { note: `${Math.floor(checks / BREAKING_EVERY)} breaking (a field deleted), the rest compatible` }),
      },
    ],
  };
}
