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
const readySchema = z.object({ status: z.enum(["ready", "unavailable"]), database: dependencySchema, bus: dependencySchema }).meta({ id: "Readiness" });

export const healthRoutes: FastifyPluginAsyncZod<{ deps: { database: Database; bus: Bus } }> = async (app, { deps }) => {
  app.get(
    "/healthz",
    { config: { public: true }, schema: { tags: ["system"], summary: "Liveness: the process is up", security: [], response: { 200: z.object({ status: z.literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      config: { public: true },
      schema: { tags: ["system"], summary: "Readiness: database and bus reachable", security: [], response: { 200: readySchema, 503: readySchema } },
    },
    async (_request, reply) => {
      const [database, bus] = await Promise.all([check(() => deps.database.ping()), check(() => deps.bus.ping())]);
      const ready = database.ok && bus.ok;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? "ready" : "unavailable",
        database: { ...database, kind: deps.database.kind },
        bus: { ...bus, kind: deps.bus.kind },
      });
    },
  );
};
