/**
 * What a person sees when the server cannot start: one line naming the thing that failed, its
 * address and the setting to change, instead of a stack trace. The process entry prints it and
 * exits non-zero.
 */
import type { Writable } from "node:stream";

/** A dependency the server could not reach or use at start. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

/** The address part of a URL (host:port), without credentials, path or query. */
export function addressOf(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || defaultPort}`;
  } catch {
    return "(unparsable URL)";
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "timed out",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this machine",
  EACCES: "permission denied",
  "28P01": "password authentication failed",
  "28000": "authentication rejected",
  "3D000": "database does not exist",
  "42501": "permission denied",
};

/** A short reason from a network, PostgreSQL or NATS error: its code's meaning, else its first line. */
export function reasonOf(err: unknown): string {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && REASONS[code]) return REASONS[code];
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]!.trim() || "unknown error";
}

/**
 * Turns a failure to reach `thing` into a StartupError, for `.catch()` on the call that
 * reached it: `Brigade cannot reach NATS at 127.0.0.1:4222 (connection refused); check NATS_URL`.
 */
export function cannotReach(thing: string, address: string, setting: string): (err: unknown) => never {
  return (err) => {
    // A refusal that already names its cause and its fix (an unsafe data folder) stays as it is.
    if (err instanceof RefusedToStart) throw err;
    throw new StartupError(`Brigade cannot reach ${thing} at ${address} (${reasonOf(err)}); check ${setting}`, { cause: err });
  };
}

/** The one line for a failed `listen`. */
export function listenFailure(err: unknown, host: string, port: number): string {
  const code = (err as { code?: unknown }).code;
  const hint =
    code === "EADDRINUSE"
      ? "another process holds it; set PORT (or HOST) to another"
      : code === "EACCES"
        ? "ports below 1024 need privileges; set PORT to 1024 or above"
        : "check HOST and PORT";
  return `Brigade cannot listen on ${host}:${port} (${reasonOf(err)}); ${hint}`;
}

/** A condition the server refuses to start under, its message saying what to do. */
export class RefusedToStart extends Error {}

/** The one line for any failure during start. */
export function startupFailure(err: unknown): string {
  if (err instanceof StartupError) return err.message;
  return `Brigade failed to start: ${reasonOf(err)}`;
}

/**
 * Where log lines go: JSON on stdout for machines, or pino-pretty's readable lines when stdout
 * is a terminal (LOG_FORMAT=auto) or when asked (pretty). Returns undefined for plain JSON.
 */
export async function logStream(format: "auto" | "json" | "pretty", stdoutIsTty: boolean): Promise<Writable | undefined> {
  if (format === "json" || (format === "auto" && !stdoutIsTty)) return undefined;
  // Loaded only when used: a server writing JSON never pays for it.
  const { default: pretty } = await import("pino-pretty");
  return pretty({ colorize: stdoutIsTty, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true });
}
