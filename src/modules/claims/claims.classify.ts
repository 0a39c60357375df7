import type { Db } from "../../infra/db.js";
import { WorkBudget } from "../../patterns/budget.js";
import { type RepoTree, treeSide } from "../../patterns/tree.js";

/**
 * Real and latent overlaps. Exact overlap (`patterns/overlap.ts`) is about every path the
 * pattern language allows; with the repo's uploaded file list, an overlap is `real` when some
 * existing file matches both sides and `latent` when only paths that do not exist do (`*.md`
 * and `package.json` meet only on `package.json/x.md`). Latent overlaps do not block unless the
 * request says `onLatent: "block"`. Without a tree — or when classifying ran out of its budget
 * before finding any file — an overlap is unclassified (`null`) and blocks as before.
 */

/** The repo tree as the claims module asks for it: the latest upload, or null. */
/** The repo's tree; `tx` when asked inside a transaction, whose connection the read must use. */
export type TreeLookup = (orgId: string, repo: string, tx?: Db) => Promise<{ treeId: string; tree: RepoTree } | null>;

/** Existing files named per overlap; the count says how many there are in all. */
export const OVERLAP_EXAMPLES = 5;

export type OverlapKind = "real" | "latent";

export interface Classification {
  overlap: OverlapKind | null;
  realCount: number | null;
  examples: string[];
}

export const unclassified: Classification = Object.freeze({ overlap: null, realCount: null, examples: [] as string[] }) as Classification;

/**
 * Classifies overlaps of pattern pairs against one tree, within a work budget of its own (the
 * request's budget stays for finding overlaps): past it, the remaining pairs stay unclassified
 * rather than failing the request. Pairs repeat within a request (one pattern against several
 * claims holding the same area): each is walked once.
 */
export class OverlapClassifier {
  private readonly memo = new Map<string, Classification>();
  private readonly budget: WorkBudget;

  constructor(
    private readonly tree: RepoTree | null,
    workBudget: number,
  ) {
    this.budget = new WorkBudget(workBudget);
  }

  get hasTree(): boolean {
    return this.tree !== null;
  }

  /** Yields the event loop when this classifier's time slice is over: await it between pairs. */
  pause(): Promise<void> {
    return this.budget.pause();
  }

  /** Two overlapping patterns (the caller found a witness). */
  patterns(yours: string, theirs: string): Classification {
    if (this.tree === null) return unclassified;
    const key = `${yours}\u0000${theirs}`;
    let result = this.memo.get(key);
    if (result === undefined) {
      result = this.decide(() => this.tree!.overlap(treeSide(yours), treeSide(theirs), OVERLAP_EXAMPLES, this.budget));
      this.memo.set(key, result);
    }
    return result;
  }

  /** A checked or touched path that a claim's pattern covers. */
  path(path: string, pattern: string): Classification {
    if (this.tree === null) return unclassified;
    const key = `\u0001${path}\u0000${pattern}`;
    let result = this.memo.get(key);
    if (result === undefined) {
      result = this.decide(() => this.tree!.covered(path, treeSide(pattern), OVERLAP_EXAMPLES, this.budget));
      this.memo.set(key, result);
    }
    return result;
  }

  private decide(walk: () => { realCount: number; examples: string[]; complete: boolean }): Classification {
    if (this.budget.spent >= this.budget.limit) return unclassified;
    const { realCount, examples, complete } = walk();
    if (realCount > 0) return { overlap: "real", realCount, examples };
    return complete ? { overlap: "latent", realCount: 0, examples: [] } : unclassified;
  }
}

/** Does this overlap block the request? Latent ones only when it asks for `onLatent: "block"`. */
export const latentExcused = (c: { overlap: OverlapKind | null }, onLatent: "warn" | "block") =>
  c.overlap === "latent" && onLatent !== "block";
