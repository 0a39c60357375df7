import type { Session } from "../api/types.js";
import { formatDuration } from "./format.js";

/**
 * A session's health from its heartbeat, not from its status: a session stays "active" on the
 * server until its lease runs out, so a silent agent looked healthy for minutes.
 *
 * - live: heard from within half its lease (at most 2 min): it heartbeats on schedule;
 * - idle: heard from within its lease (at most 10 min), but late;
 * - stale: silent for longer, or past its lease (the server ends it at its next sweep);
 * - ended: ended or expired on the server.
 */
export type Health = "live" | "idle" | "stale" | "ended";
export const HEALTH_STATES: readonly Health[] = ["live", "idle", "stale", "ended"];

const LIVE_CAP_MS = 2 * 60_000;
const IDLE_CAP_MS = 10 * 60_000;
const DEFAULT_TTL_S = 300;

export interface HealthThresholds {
  liveMs: number;
  idleMs: number;
}

export function thresholdsOf(session: Pick<Session, "expiresAt" | "lastHeartbeatAt"> & { ttlSeconds?: number }): HealthThresholds {
  const ttlMs = (session.ttlSeconds ?? DEFAULT_TTL_S) * 1000;
  return { liveMs: Math.min(ttlMs / 2, LIVE_CAP_MS), idleMs: Math.min(ttlMs, IDLE_CAP_MS) };
}

export function healthOf(
  session: Pick<Session, "status" | "expiresAt" | "lastHeartbeatAt"> & { ttlSeconds?: number },
  now: number,
): Health {
  if (session.status !== "active") return "ended";
  const age = now - Date.parse(session.lastHeartbeatAt);
  const { liveMs, idleMs } = thresholdsOf(session);
  if (Date.parse(session.expiresAt) <= now || age > idleMs) return "stale";
  return age <= liveMs ? "live" : "idle";
}

/** The rule behind a session's state, in words (its tooltip and the page's legend). */
export function healthRule(session: Pick<Session, "expiresAt" | "lastHeartbeatAt"> & { ttlSeconds?: number }): string {
  const { liveMs, idleMs } = thresholdsOf(session);
  return `live: heartbeat within ${formatDuration(liveMs)}; idle: within ${formatDuration(idleMs)}; stale: silent longer or past its lease`;
}

/** The default thresholds (a 5-minute lease), for the legend. */
export const DEFAULT_RULE = {
  live: formatDuration(Math.min((DEFAULT_TTL_S * 1000) / 2, LIVE_CAP_MS)),
  idle: formatDuration(Math.min(DEFAULT_TTL_S * 1000, IDLE_CAP_MS)),
};
