import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

// Random bytes drawn in bulk: `uuid` asks WebCrypto for 16 bytes per id, which costs more than
// the rest of the id put together on the claim path (several ids per grant).
const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let used = POOL_IDS;

function randomBytes16(): Uint8Array {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  return pool.subarray(16 * used, 16 * ++used);
}

// With its own randomness `uuid` no longer keeps ids of the same millisecond in order, so the
// clock and counter are kept here, as `uuid` keeps them (RFC 9562 §6.2, method 1): a new
// millisecond seeds the 32-bit counter from the random bytes, the same millisecond increments
// it, and its overflow borrows the next millisecond.
let lastMs = -Infinity;
let counter = 0;

/** Time-ordered UUIDv7: sorts by creation (also within one millisecond), so ids double as pagination cursors. */
export function newId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    counter = (counter + 1) | 0;
    if (counter === 0) lastMs++;
  }
  return v7({ random, msecs: lastMs, seq: counter });
}

/**
 * The smallest UUIDv7 of a millisecond: every id made before that millisecond sorts below it,
 * so a primary key of ids finds rows by age with a range.
 */
export function firstIdOf(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
