import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Bus } from "../../infra/bus.js";
import type { Database } from "../../infra/db.js";

import type { LoopState } from "../../infra/loop-watch.js";

/** A readiness probe gets its answer quickly: a database slower than this counts as unreachable. */
const CHECK_TIMEOUT_MS = 1_000;
/** Many probes (a load balancer per replica, Kubernetes) share one database check per this long. */
const CHECK_CACHE_MS = 1_000;

async function check(probe: () => Promise<void>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const dependencySchema = z.object({ ok: z.boolean(), kind: z.string(), error: z.string().optional() });
const outboxSchema = z
  .object({
    ok: z.boolean().describe("False when the lag exceeds RELAY_MAX_LAG_SECONDS (unless that is 0) or cannot be read."),
    pending: z.number().int().nullable().describe("Committed events not yet published to the bus."),
    oldestAgeSeconds: z.number().nullable().describe("Age of the oldest of them; null when there are none."),
    maxLagSeconds: z.number().int().nullable().describe("The configured limit; null when lag never makes the process unready."),
    error: z.string().optional(),
  })
  .meta({ id: "OutboxLag" });
/** What the relay reports of the outbox (a dependency, so this module needs nothing from delivery). */
interface OutboxLag {
  pending: number;
  oldestAgeSeconds: number | null;
}
const loopSchema = z.object({
  name: z.string().describe("A background loop of this process: grant batches, outbox relay, a sweeper."),
  ok: z.boolean(),
  detail: z.string().optional().describe("Why it is stuck."),
});
const reasonSchema = z.object({
  code: z.string().describe("`database.unreachable`, `loop.stuck`, `server.draining`."),
  detail: z.string(),
});
const readySchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    code: z.literal("server.draining").optional().describe("Present while the process is stopping (SIGTERM): send traffic elsewhere."),
    database: dependencySchema,
    bus: dependencySchema.describe("Reported only: events wait in the outbox while the bus is away, so a process without it still serves."),
    outbox: outboxSchema,
    loops: z.array(loopSchema),
    reasons: z.array(reasonSchema).describe("Why the process is not ready; empty when it is."),
  })
  .meta({ id: "Readiness" });

export interface HealthDeps {
  database: Database;
  bus: Bus;
  outbox: { lag: () => Promise<OutboxLag>; maxLagSeconds: number };
  /** This process's background loops, as the loop watch sees them. */
  loops: () => LoopState[];
  /** True once the process was told to stop: not ready, whatever the dependencies say. */
  draining?: () => boolean;
}

/** The name readiness gives the relay's lag condition (and its pass tracker). */
export const RELAY_LOOP = "outbox relay";

export const healthRoutes: FastifyPluginAsyncZod<{ deps: HealthDeps }> = async (app, { deps }) => {
  let cached: { at: number; value: Promise<[{ ok: boolean; error?: string }, { ok: boolean; error?: string }, OutboxLag | null]> } | null =
    null;
  /** The database ping and the outbox lag, read at most once per CHECK_CACHE_MS whatever the number of probes. */
  const databaseChecks = () => {
    const now = Date.now();
    if (cached && now - cached.at < CHECK_CACHE_MS) return cached.value;
    const value = (async () => {
      let lag: OutboxLag | null = null;
      const [database, outbox] = await Promise.all([
        check(() => deps.database.ping()),
        check(async () => void (lag = await deps.outbox.lag())),
      ]);
      return [database, outbox, lag as OutboxLag | null] as [typeof database, typeof outbox, OutboxLag | null];
    })();
    cached = { at: now, value };
    return value;
  };

  app.get(
    "/healthz",
    {
      config: { public: true },
      schema: {
        tags: ["system"],
        summary: "Liveness: the process is up",
        security: [],
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      config: { public: true },
      schema: {
        tags: ["system"],
        summary: "Readiness: send this process traffic",
        description:
          "503 when the database is unreachable (checked at most once a second, 1 s timeout) or one of this process's background loops is stuck: a grant batch, a relay pass or a sweep in progress too long, or the outbox lag past RELAY_MAX_LAG_SECONDS while the bus is connected. Ready while the bus is away: events wait in the outbox; `bus` and `outbox` report it. Also 503 while the process is stopping (SIGTERM; `code: server.draining`, reason `server.draining`).",
        security: [],
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const [[database, outboxCheck, current], bus] = await Promise.all([
        databaseChecks(),
        // A disconnected client's ping would wait for the reconnection: report what it knows.
        deps.bus.connected ? check(() => deps.bus.ping()) : { ok: false, error: "disconnected; events wait in the outbox" },
      ]);
      const busUp = bus.ok && deps.bus.connected;
      const max = deps.outbox.maxLagSeconds;
      const withinLimit = current !== null && (max === 0 || (current.oldestAgeSeconds ?? 0) <= max);
      const outbox = {
        ok: outboxCheck.ok && withinLimit,
        pending: current?.pending ?? null,
        oldestAgeSeconds: current?.oldestAgeSeconds ?? null,
        maxLagSeconds: max === 0 ? null : max,
        ...(outboxCheck.error ? { error: outboxCheck.error } : {}),
      };
      const loops = deps.loops().map((l) => ({ name: l.name, ok: !l.stuck, ...(l.detail ? { detail: l.detail } : {}) }));
      // The relay lags behind with the bus up: it is stuck (with the bus away, the lag is the bus's).
      if (current !== null && !withinLimit && busUp) {
        const relay = loops.find((l) => l.name === RELAY_LOOP);
        const detail = `the oldest unpublished event is ${Math.round(current.oldestAgeSeconds ?? 0)} s old (limit ${max} s) while the bus is connected`;
        if (relay) Object.assign(relay, { ok: false, detail: relay.detail ?? detail });
        else loops.push({ name: RELAY_LOOP, ok: false, detail });
      }
      const reasons: { code: string; detail: string }[] = [];
      if (!database.ok) reasons.push({ code: "database.unreachable", detail: database.error ?? "no answer" });
      for (const l of loops) if (!l.ok) reasons.push({ code: "loop.stuck", detail: `${l.name}: ${l.detail ?? "stuck"}` });
      const draining = deps.draining?.() === true;
      if (draining) reasons.unshift({ code: "server.draining", detail: "the process is stopping; send traffic elsewhere" });
      const ready = reasons.length === 0;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? "ready" : "unavailable",
        ...(draining ? { code: "server.draining" as const } : {}),
        database: { ...database, kind: deps.database.kind },
        bus: { ...bus, ok: busUp, kind: deps.bus.kind },
        outbox,
        loops,
        reasons,
      });
    },
  );
};
