/**
 * A contract worker that dies outside any task must not end the process. The window: a task's
 * time limit aborts it (its request gets its 422 and piscina drops the task), and before the
 * worker's termination lands it runs out of memory; piscina then reports the worker's error on
 * the pool, with no task to give it to. The time limits below sweep across the moment a `$ref`
 * fan-out reaches the heap limit, so that some abort lands just before an out-of-memory exit.
 */
import t from "tap";
import { ContractWork, type ContractWorkConfig } from "../../../src/modules/contracts/contracts.pool.js";

const fanOut = (n: number, leaf: string) => {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    defs[`a${i}`] = { type: "object", properties: { x: { $ref: `#/$defs/a${i + 1}` }, y: { $ref: `#/$defs/a${i + 1}` } } };
  defs[`a${n}`] = { type: leaf };
  return JSON.stringify({ $defs: defs, $ref: "#/$defs/a0" });
};

t.test("workers lost to memory around their time limit: every task gets its 422, the pool lives on", async (t) => {
  const lostAt: number[] = [];
  // One pool throughout: it reads its limits at each task, so the sweep changes the time limit in place.
  const config: ContractWorkConfig = { CONTRACT_WORKERS: 1, CONTRACT_WORK_TIMEOUT_MS: 60_000, CONTRACT_WORK_MEMORY_MB: 64 };
  const work = new ContractWork(config, { warn: () => lostAt.push(config.CONTRACT_WORK_TIMEOUT_MS) });
  t.teardown(() => work.close());
  const before = await work.parse("jsonschema", fanOut(18, "string"));
  const after = await work.parse("jsonschema", fanOut(18, "integer"));
  for (let timeout = 800; timeout <= 1_500; timeout += 50) {
    config.CONTRACT_WORK_TIMEOUT_MS = timeout;
    const outcome = await work
      .compatibility("jsonschema", "backward", after.normalized, [{ label: "1.0.0", normalized: before.normalized }])
      .then(
        () => "answered",
        (err: { status?: number; code?: string }) => `${err.status} ${err.code}`,
      );
    t.equal(outcome, "422 contracts.too_complex", `time limit ${timeout} ms`);
  }
  // Whatever became of the workers, the pool answers the next task.
  t.equal((await work.parse("jsonschema", '{"type":"object"}')).kind, "jsonschema", "a task after the sweep");
  t.comment(`workers lost outside a task, at time limits (ms): ${lostAt.join(", ") || "none this run"}`);
});
