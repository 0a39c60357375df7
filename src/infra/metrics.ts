import { createHash, timingSafeEqual } from "node:crypto";
import fp from "fastify-plugin";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { AppError, problemResponse } from "../http/problem.js";

declare module "fastify" {
  interface FastifyInstance {
    /** This app's Prometheus registry: modules register their metrics here. */
    metrics: Registry;
  }
}

// The default process metrics (CPU, memory, event loop, GC) install process-wide observers that
// prom-client cannot remove, and describe the process rather than an app: one set per process,
// however many apps it builds (tests build many).
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * `GET /metrics` in the Prometheus text format: the app's registry (`app.metrics`) and the
 * process metrics. Public unless a token is given, then `Authorization: Bearer <token>`.
 * Closing the app clears the registry.
 */
const plugin: FastifyPluginAsyncZod<{ token?: string | undefined }> = async (app, { token }) => {
  const registry = new Registry();
  const shared = processMetrics();
  const expected = token ? digest(token) : null;
  app.decorate("metrics", registry);
  app.addHook("onClose", async () => registry.clear());

  app.get(
    "/metrics",
    {
      config: { public: true },
      schema: {
        tags: ["system"],
        summary: "Prometheus metrics: outbox lag, publish latency and counts, process metrics",
        description: "Public unless the server sets METRICS_TOKEN; then send it as a bearer token.",
        security: [],
        response: {
          200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: z.string() } } },
          401: problemResponse(401),
        },
      },
    },
    async (request, reply) => {
      if (expected) {
        const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "");
        if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
          reply.header("www-authenticate", 'Bearer realm="brigade-metrics"');
          throw new AppError(401, "metrics.unauthorized", "Send the metrics token as a bearer token.");
        }
      }
      const [own, processText] = await Promise.all([registry.metrics(), shared.metrics()]);
      return reply.type(registry.contentType).send(`${own}\n${processText}`);
    },
  );
};

export const metricsPlugin = fp(plugin, { name: "metrics" });
