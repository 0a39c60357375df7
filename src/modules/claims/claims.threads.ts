// A refused claim leads straight into a conversation with the holder: each conflict of a
// refusal carries the thread to talk it over in, so an agent replies where the two parties
// already talk instead of opening a second thread about the same claim.
import type { Db } from "../../infra/db.js";
import type { Principal } from "../identity/identity.schemas.js";
import { claimThreadIds } from "../messages/messages.usecases.js";
import type { ClaimThread } from "./claims.schemas.js";

type Held = { claimId: string; holder: { sessionId: string; userId: string } };

/**
 * The conflicts with their threads, for a caller speaking through `sessionId`: one read for the
 * whole refusal, in the caller's organisation only.
 */
export async function withClaimThreads<C extends Held>(
  db: Db,
  principal: Principal,
  sessionId: string,
  conflicts: C[],
): Promise<(C & { thread: ClaimThread })[]> {
  const ids = await claimThreadIds({ db }, principal, sessionId, conflicts);
  return conflicts.map((c) => ({ ...c, thread: claimThreadOf(c, ids.get(c.claimId) ?? null) }));
}

export const claimThreadOf = (c: Held, id: string | null): ClaimThread => ({
  id,
  about: { type: "claim", id: c.claimId },
  to: { type: "session", id: c.holder.sessionId },
});
