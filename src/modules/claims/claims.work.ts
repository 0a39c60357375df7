import type { Actor } from "../../events/envelope.js";
import type { PendingEvent } from "../../events/catalog.js";
import type { Tx } from "../../infra/db.js";
import type { WorkBudget } from "../../patterns/budget.js";
import type { PatternIndex } from "../../patterns/index.js";
import type { HeldPattern } from "./claims.index.js";

/**
 * The claims module's hook for work in a repo: granted claims and reported touches, told to
 * whoever the app wires in (the contracts module's at-risk check) inside the same transaction.
 */

/** A granted claim's patterns, or touched paths, in a repo whose contract-source version is > 0. */
export interface RepoWork {
  orgId: string;
  repo: string;
  contractsVersion: number;
  actor: Actor;
  sessionId: string;
  userId: string;
  agentName: string;
  claimId: string | null;
  patterns?: string[];
  paths?: string[];
  /** The repo's claim index as this transaction read it (before its own change), and the database clock. */
  claimIndex: PatternIndex<HeldPattern>;
  now: number;
  /** The request's pattern-work budget, what is left of it: the hook's searches count too. */
  budget: WorkBudget;
}

/** Runs in the claim's (or touches') transaction; the events it returns are appended with the claim's. */
export type OnRepoWork = (tx: Tx, work: RepoWork) => Promise<PendingEvent[]>;
