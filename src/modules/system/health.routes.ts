import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Bus } from "../../infra/bus.js";
import type { Database } from "../../infra/db.js";

const CHECK_TIMEOUT_MS = 2_000;

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
    ok: z.boolean().describe("False only when the lag exceeds RELAY_MAX_LAG_SECONDS (if set) or cannot be read."),
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
const readySchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    code: z.literal("server.draining").optional().describe("Present while the process is stopping (SIGTERM): send traffic elsewhere."),
    database: dependencySchema,
    bus: dependencySchema,
    outbox: outboxSchema,
  })
  .meta({ id: "Readiness" });

export interface HealthDeps {
  database: Database;
  bus: Bus;
  outbox: { lag: () => Promise<OutboxLag>; maxLagSeconds: number };
  /** True once the process was told to stop: not ready, whatever the dependencies say. */
  draining?: () => boolean;
}

export const healthRoutes: FastifyPluginAsyncZod<{ deps: HealthDeps }> = async (app, { deps }) => {
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
        summary: "Readiness: database and bus reachable; outbox lag",
        description:
          "503 when the database or the bus is unreachable, when RELAY_MAX_LAG_SECONDS is set and the oldest unpublished event is older, or while the process is stopping (`code: server.draining`).",
        security: [],
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      let lag: OutboxLag | null = null;
      const [database, bus, outboxCheck] = await Promise.all([
        check(() => deps.database.ping()),
        check(() => deps.bus.ping()),
        check(async () => void (lag = await deps.outbox.lag())),
      ]);
      const max = deps.outbox.maxLagSeconds;
      const current = lag as OutboxLag | null;
      const withinLimit = current !== null && (max === 0 || (current.oldestAgeSeconds ?? 0) <= max);
      const outbox = {
        ok: outboxCheck.ok && withinLimit,
        pending: current?.pending ?? null,
        oldestAgeSeconds: current?.oldestAgeSeconds ?? null,
        maxLagSeconds: max === 0 ? null : max,
        ...(outboxCheck.error ? { error: outboxCheck.error } : {}),
      };
      const draining = deps.draining?.() === true;
      const ready = !draining && database.ok && bus.ok && outbox.ok;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? "ready" : "unavailable",
        ...(draining ? { code: "server.draining" as const } : {}),
        database: { ...database, kind: deps.database.kind },
        bus: { ...bus, kind: deps.bus.kind },
        outbox,
      });
    },
  );
};
