/**
 * The pool of contract workers (`contracts.worker.ts`, on `piscina`): every parse, `$ref` check
 * and diff of contract content runs there, with a time limit (CONTRACT_WORK_TIMEOUT_MS, counted
 * from when a worker starts the task), a heap limit (CONTRACT_WORK_MEMORY_MB) and CONTRACT_WORKERS threads. A task
 * over a limit ends its worker (piscina starts a fresh one) and its request gets 422
 * `contracts.too_complex` naming the limit, so a document built to explode costs one worker for
 * a bounded time and never stalls the event loop.
 */

import { MessageChannel } from "node:worker_threads";
import type { FastifyBaseLogger } from "fastify";
import { Piscina } from "piscina";
import type { Config } from "../../config.js";
import { AppError } from "../../http/problem.js";
import { contractErrors } from "./contracts.errors.js";
import type { DiffOptions, PolicyOptions } from "./contracts.diff.js";
import type { CompatibilityPolicy, ContractKind } from "./contracts.table.js";
import type {
  Assessment,
  CompatibilityView,
  ContractTask,
  ContractTaskResult,
  DiffView,
  ParsedText,
  VersionText,
} from "./contracts.worker.js";

export type { Assessment, CompatibilityView, DiffView, ParsedText, VersionText };

export type ContractWorkConfig = Pick<Config, "CONTRACT_WORKERS" | "CONTRACT_WORK_TIMEOUT_MS" | "CONTRACT_WORK_MEMORY_MB">;

// From src (tsx: tests, `npm run dev`) the worker is the .ts file beside this one, and the
// worker thread inherits tsx's loader through execArgv; from dist it is the compiled .js.
const here = import.meta.url;
const workerFile = new URL(here.endsWith(".ts") ? "./contracts.worker.ts" : "./contracts.worker.js", here).href;

function tooComplex(limit: string, detail: string) {
  return contractErrors.tooComplex(`${detail} Simplify the document (fewer or shallower $refs, less nesting) or split it.`, {
    limit,
  });
}

export class ContractWork {
  private poolValue: Piscina<ContractTask, ContractTaskResult> | null = null;

  constructor(
    private readonly config: ContractWorkConfig,
    private readonly log: Pick<FastifyBaseLogger, "warn">,
  ) {}

  /**
   * Starts the pool's first worker. Called once the server listens: a worker loads every
   * parser and differ (GraphQL, Protocol Buffers, OpenAPI), and doing that while the server
   * starts would slow the start on a small machine for a task that may not come for minutes.
   */
  warmUp(): void {
    void this.pool;
  }

  private get pool(): Piscina<ContractTask, ContractTaskResult> {
    if (this.poolValue) return this.poolValue;
    const config = this.config;
    const pool = new Piscina<ContractTask, ContractTaskResult>({
      filename: workerFile,
      minThreads: 1,
      maxThreads: config.CONTRACT_WORKERS,
      // An idle worker keeps its warmed-up parsers for a while, then gives its memory back.
      idleTimeout: 60_000,
      // Workers run below the event loop's priority: on a busy machine a worker's long task
      // yields the cores to the thread answering everyone's requests.
      niceIncrement: 10,
      resourceLimits: {
        maxOldGenerationSizeMb: config.CONTRACT_WORK_MEMORY_MB,
        maxYoungGenerationSizeMb: Math.max(4, Math.floor(config.CONTRACT_WORK_MEMORY_MB / 8)),
      },
    });
    // A worker can die with no task of its own: one whose task was just aborted for time runs
    // out of memory before its termination lands. piscina then emits the error on the pool,
    // and an unheard 'error' would end the whole server. The task already had its 422, and
    // piscina replaces the worker; the loss is only worth a line in the log.
    pool.on("error", (err: Error) => this.log.warn({ err }, "a contract worker died outside any task; piscina replaces it"));
    this.poolValue = pool;
    return pool;
  }

  /** Parses and validates content of a kind (a 422 problem saying where it is wrong). */
  parse(kind: ContractKind, text: string): Promise<ParsedText> {
    return this.run({ op: "parse", kind, text }) as Promise<ParsedText>;
  }

  /** `checkCompatibility` of a candidate (normalised text) against versions, oldest first. */
  compatibility(
    kind: ContractKind,
    policy: CompatibilityPolicy,
    candidate: string,
    history: VersionText[],
    options: PolicyOptions = {},
  ): Promise<CompatibilityView> {
    return this.run({ op: "compatibility", kind, policy, candidate, history, options }) as Promise<CompatibilityView>;
  }

  /** `parse`, then `compatibility` of what it parsed, in one task: one trip to a worker, one parse. */
  assess(
    kind: ContractKind,
    text: string,
    policy: CompatibilityPolicy,
    history: VersionText[],
    options: PolicyOptions = {},
  ): Promise<Assessment> {
    return this.run({ op: "assess", kind, text, policy, history, options }) as Promise<Assessment>;
  }

  /** Every change from one normalised text to another. */
  diff(kind: ContractKind, before: string, after: string, options: DiffOptions = {}): Promise<DiffView> {
    return this.run({ op: "diff", kind, before, after, options }) as Promise<DiffView>;
  }

  async close(): Promise<void> {
    await this.poolValue?.destroy();
  }

  private async run(task: ContractTask): Promise<unknown> {
    const { CONTRACT_WORK_TIMEOUT_MS: timeout, CONTRACT_WORK_MEMORY_MB: memory } = this.config;
    let result: ContractTaskResult;
    // The time limit counts from when a worker starts the task, not from submission: a task
    // waiting in the queue, or for a replaced worker to load its parsers, is not being slow.
    const { port1: started, port2: port } = new MessageChannel();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    started.once("message", () => {
      timer = setTimeout(() => controller.abort(), timeout);
    });
    try {
      // Aborting a running task terminates its worker; piscina replaces it.
      result = await this.pool.run({ ...task, port }, { signal: controller.signal, transferList: [port] });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((error as Error).name === "AbortError" || code === "ABORT_ERR")
        throw tooComplex("CONTRACT_WORK_TIMEOUT_MS", `Processing this contract took longer than ${timeout} ms (CONTRACT_WORK_TIMEOUT_MS).`);
      if (code === "ERR_WORKER_OUT_OF_MEMORY")
        throw tooComplex("CONTRACT_WORK_MEMORY_MB", `Processing this contract needed more than ${memory} MB (CONTRACT_WORK_MEMORY_MB).`);
      throw error;
    } finally {
      clearTimeout(timer);
      started.close();
    }
    if (result.ok) return result.value;
    if ("tooDeep" in result)
      throw tooComplex("nesting", "The contract nests too deeply to process (the parser or differ ran out of stack).");
    const { status, code, detail, extra } = result.problem;
    throw new AppError(status, code, detail, extra);
  }
}
