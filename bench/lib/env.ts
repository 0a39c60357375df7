import { fileURLToPath } from "node:url";

/** Repository root: servers are started from it so `src/…` and `drizzle/` resolve. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A positive number from the environment, or the default; a bad value is an error, not a silent default. */
export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
