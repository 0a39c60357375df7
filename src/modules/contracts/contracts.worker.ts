/**
 * The contract worker: parsing (JSON Schema, OpenAPI and AsyncAPI as YAML or JSON, GraphQL
 * SDL, Protocol Buffers files), `$ref` checks and diffing, run in a worker thread of `contracts.pool.ts` so that a
 * hostile document costs a worker, never the event loop that serves every organisation.
 *
 * Tasks and results cross the thread boundary by structured clone, so both are plain data: a
 * parsed document never leaves the worker (a GraphQLSchema cannot be cloned); the main thread
 * keeps the normalised text and sends it back when a later task needs the document.
 */

import type { MessagePort } from "node:worker_threads";
import { AppError } from "../../http/problem.js";
import type { Change } from "./contracts.changes.js";
import { documentOf, parseContent } from "./contracts.content.js";
import {
  MAX_CHANGES,
  checkCompatibility,
  diffDocuments,
  summarize,
  type CompatibilityResult,
  type DiffOptions,
  type PolicyOptions,
  type Summary,
} from "./contracts.diff.js";
import type { CompatibilityPolicy, ContractKind } from "./contracts.table.js";

/** A stored version as a task carries it. */
export interface VersionText {
  label: string;
  normalized: string;
}

export type ContractTask = (
  | { op: "parse"; kind: ContractKind; text: string }
  | {
      op: "compatibility";
      kind: ContractKind;
      policy: CompatibilityPolicy;
      candidate: string;
      history: VersionText[];
      /** The contract's settings (absent: dangerous allowed, protobuf judged under FILE). */
      options?: PolicyOptions;
    }
  | { op: "diff"; kind: ContractKind; before: string; after: string; options?: DiffOptions }
  | {
      /** A publish's or a check's whole work in one task: the parse, then the verdict against the history. */
      op: "assess";
      kind: ContractKind;
      text: string;
      policy: CompatibilityPolicy;
      history: VersionText[];
      options?: PolicyOptions;
    }
) & {
  /** Told when the task starts, which starts its time limit. */
  port?: MessagePort;
};

/** What `parse` answers: the content without its document. */
export interface ParsedText {
  kind: ContractKind;
  normalized: string;
  hash: string;
}

/**
 * A compatibility verdict as it crosses back: lists capped at MAX_CHANGES, with their totals and
 * the summary of every change. An exploding diff (2^n changes from a `$ref` fan-out) would
 * otherwise cost the main thread its deserialisation.
 */
export interface CompatibilityView extends CompatibilityResult {
  summary: Summary;
  changesTotal: number;
  breakingTotal: number;
}

/** What `assess` answers: the parsed text and its verdict against the history it was given. */
export interface Assessment {
  parsed: ParsedText;
  verdict: CompatibilityView;
  /** Where the task's time went, measured in the worker. */
  ms: { parse: number; diff: number };
}

/** A diff as it crosses back, capped the same way. */
export interface DiffView {
  changes: Change[];
  summary: Summary;
  changesTotal: number;
}

export type ContractTaskResult =
  | { ok: true; value: ParsedText | CompatibilityView | DiffView | Assessment }
  /** A problem the content has (an `AppError` of the contracts module), rebuilt on the main thread. */
  | { ok: false; problem: { status: number; code: string; detail: string; extra: Record<string, unknown> } }
  /** The document nests deeper than the worker's stack: too complex, whatever the parser. */
  | { ok: false; tooDeep: true };

/** Kinds whose parsed document is exactly `documentOf` its normalised text (JSON.parse of it). */
const DOCUMENT_IS_NORMALISED_JSON = new Set<ContractKind>(["openapi", "asyncapi", "jsonschema"]);

function compatibilityView(
  kind: ContractKind,
  policy: CompatibilityPolicy,
  candidate: unknown,
  versions: VersionText[],
  options: PolicyOptions | undefined,
): CompatibilityView {
  const history = versions.map((v) => ({ label: v.label, document: () => documentOf(kind, v.normalized) }));
  const result = checkCompatibility(kind, policy, candidate, history, options);
  return {
    ...result,
    changes: result.changes.slice(0, MAX_CHANGES),
    breaking: result.breaking.slice(0, MAX_CHANGES),
    summary: summarize(result.changes),
    changesTotal: result.changes.length,
    breakingTotal: result.breaking.length,
  };
}

function perform(task: ContractTask): ParsedText | CompatibilityView | DiffView | Assessment {
  switch (task.op) {
    case "parse": {
      const { kind, normalized, hash } = parseContent(task.kind, task.text);
      return { kind, normalized, hash };
    }
    case "compatibility":
      return compatibilityView(task.kind, task.policy, documentOf(task.kind, task.candidate), task.history, task.options);
    case "assess": {
      const parseStart = performance.now();
      const { kind, document, normalized, hash } = parseContent(task.kind, task.text);
      const diffStart = performance.now();
      // The verdict must be the one a later check of the stored version gets, so the candidate
      // is the document of its normalised text; for the JSON kinds the parse already made
      // exactly that (and a second JSON.parse of megabytes is saved).
      const candidate = DOCUMENT_IS_NORMALISED_JSON.has(kind) ? document : documentOf(kind, normalized);
      const verdict = compatibilityView(kind, task.policy, candidate, task.history, task.options);
      return {
        parsed: { kind, normalized, hash },
        verdict,
        ms: { parse: diffStart - parseStart, diff: performance.now() - diffStart },
      };
    }
    case "diff": {
      const changes = diffDocuments(task.kind, documentOf(task.kind, task.before), documentOf(task.kind, task.after), task.options);
      return { changes: changes.slice(0, MAX_CHANGES), summary: summarize(changes), changesTotal: changes.length };
    }
  }
}

export default function run(task: ContractTask): ContractTaskResult {
  task.port?.postMessage("started");
  task.port?.close();
  try {
    return { ok: true, value: perform(task) };
  } catch (error) {
    if (error instanceof AppError)
      return { ok: false, problem: { status: error.status, code: error.code, detail: error.detail, extra: error.extra } };
    // Recursion in a parser or differ (graphql-js, api-smart-diff) on a document nested past
    // the worker's stack: the document is too complex, not the server broken.
    if (error instanceof RangeError && /call stack/i.test(error.message)) return { ok: false, tooDeep: true };
    throw error;
  }
}
