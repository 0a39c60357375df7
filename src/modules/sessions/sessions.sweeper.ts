import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../../infra/db.js";
import { expireOverdueSessions } from "./sessions.usecases.js";

/**
 * Expires overdue sessions every `intervalMs`. Each process runs one; the sweep itself is
 * safe to run concurrently, so every expiry happens exactly once across replicas.
 */
export function startSessionSweeper({ db, intervalMs, log }: { db: Db; intervalMs: number; log: FastifyBaseLogger }) {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = expireOverdueSessions({ db })
      .then((n) => {
        if (n > 0) log.info({ expired: n }, "expired overdue sessions");
      })
      .catch((err) => log.error({ err }, "session sweep failed"))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
