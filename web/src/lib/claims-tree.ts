/**
 * The claims map of one repository: claimed areas as a tree of folders, built from each
 * pattern's fixed leading folders (`src/auth/**` sits at src/auth; `*.ts`, unanchored, sits at
 * the root), with the holders below each node, the conflicts the server recorded (their
 * witness paths highlighted), and exact overlaps between the live claims of different
 * sessions found with the server's own pattern language (src/patterns), never by comparing
 * pattern strings. Pure: no DOM, unit-tested in test/dashboard/claims-tree.test.ts.
 */
import {
  firstLiteralSegments,
  MAX_PATTERN_LENGTH,
  MAX_WILDCARDS,
  overlap,
  type Pattern,
  parsePattern,
} from "../../../src/patterns/index.js";

export interface MapClaim {
  id: string;
  sessionId: string;
  userId: string;
  agentName: string;
  patterns: string[];
  mode: "exclusive" | "shared";
  reason: string | null;
  fence: number;
  grantedAt: string;
  expiresAt: string;
}

export interface MapConflict {
  id: string;
  claimId: string | null;
  otherClaimId: string | null;
  witness: string;
  status: string;
  /** Against the repository's uploaded tree: real, latent (only paths that do not exist overlap), or not classified. */
  overlap?: "real" | "latent" | null;
}

export interface Placed {
  claim: MapClaim;
  pattern: string;
}

export interface Overlap {
  a: Placed;
  b: Placed;
  witness: string;
  /** Both claims are exclusive, or one is: the server would have recorded a conflict. */
  conflicting: boolean;
}

export interface TreeNode {
  name: string;
  /** Folder path from the repository root; "" for the root. */
  path: string;
  depth: number;
  children: TreeNode[];
  /** Patterns whose fixed folders end exactly here. */
  own: Placed[];
  /** Patterns here and below. */
  total: number;
  /** Holder (user id) → patterns here and below. */
  holders: Map<string, number>;
  /** A recorded conflict's witness path runs through (or ends at) this node. */
  conflict: boolean;
  /** Every conflict through this node is latent: its witness is a path that does not exist. */
  conflictLatentOnly: boolean;
  /** An exact overlap between two sessions' claims involves a pattern here or below. */
  overlap: boolean;
  /** Overlaps involving a pattern placed exactly here. */
  overlapsHere: Overlap[];
}

export interface ClaimsTree {
  root: TreeNode;
  overlaps: Overlap[];
  /** True when the overlap search stopped at its budget (the tree is still complete). */
  overlapCheckTruncated: boolean;
  patterns: number;
  /** Holders by number of patterns, busiest first. */
  holders: { userId: string; patterns: number }[];
}

/** Pattern pairs the overlap search may test; beyond it the map says so instead of stalling. */
export const OVERLAP_BUDGET = 20_000;

function newNode(name: string, path: string, depth: number): TreeNode {
  return {
    name,
    path,
    depth,
    children: [],
    own: [],
    total: 0,
    holders: new Map(),
    conflict: false,
    conflictLatentOnly: false,
    overlap: false,
    overlapsHere: [],
  };
}

/**
 * Parsed once per pattern text, and the parsed pattern (not its text) handed to the overlap
 * search: the patterns library's own text cache holds 4,096 texts, fewer than a monorepo's
 * claims, so each text was parsed again for its overlaps (and compiled again, its compiled
 * form being kept by parsed pattern). A live map is rebuilt every second while claims stream in.
 */
const parsedCache = new Map<string, Pattern | null>();
const PARSED_CACHE_LIMIT = 200_000;

function parsedOf(pattern: string): Pattern | null {
  const cached = parsedCache.get(pattern);
  if (cached !== undefined) return cached;
  let parsed: Pattern | null;
  try {
    parsed = parsePattern(pattern);
  } catch {
    parsed = null; // the server validated it; a pattern this client cannot parse sits at the root
  }
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(pattern, parsed);
  return parsed;
}

/** Printable ASCII without the backslash: no escapes, whitespace, control characters or surrogates. */
const PLAIN = /^[!-[\]-~]+$/;

/**
 * A pattern's fixed leading folders, as firstLiteralSegments says (nothing for a pattern that
 * matches at any depth or does not parse). Placing a monorepo's claims parsed every pattern with
 * full validation, which was most of the map's first draw (5,100 patterns: ~240 of 400 ms in
 * its profile); a plain pattern (printable ASCII, no escapes, no empty, "." or ".." segment,
 * "***" or more wildcard characters than a pattern may have) reads straight off its text, with
 * the same answer (a property test holds the two together). Anything else is parsed.
 */
export function literalFolders(pattern: string): string[] {
  if (pattern.length > MAX_PATTERN_LENGTH || !PLAIN.test(pattern) || pattern.includes("***")) return segmentsOf(pattern);
  let wildcards = 0;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] === "*" || pattern[i] === "?") wildcards++;
  if (wildcards > MAX_WILDCARDS) return segmentsOf(pattern);
  const leadingSlash = pattern.startsWith("/");
  const trailingSlash = pattern.length > 1 && pattern.endsWith("/");
  const body = pattern.slice(leadingSlash ? 1 : 0, trailingSlash ? -1 : undefined);
  const segments = body.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return segmentsOf(pattern);
  if (!leadingSlash && segments.length === 1) return [];
  const folders: string[] = [];
  for (const segment of segments) {
    if (segment.includes("*") || segment.includes("?")) break;
    folders.push(segment);
  }
  return folders;
}

function segmentsOf(pattern: string): string[] {
  const parsed = parsedOf(pattern);
  return parsed ? firstLiteralSegments(parsed) : [];
}

export function buildClaimsTree(claims: MapClaim[], conflicts: MapConflict[] = [], budget = OVERLAP_BUDGET): ClaimsTree {
  const root = newNode("", "", 0);
  const childMaps = new Map<TreeNode, Map<string, TreeNode>>();
  const holderTotals = new Map<string, number>();
  let patterns = 0;

  for (const claim of claims) {
    for (const pattern of claim.patterns) {
      patterns++;
      holderTotals.set(claim.userId, (holderTotals.get(claim.userId) ?? 0) + 1);
      let node = root;
      node.total++;
      node.holders.set(claim.userId, (node.holders.get(claim.userId) ?? 0) + 1);
      for (const segment of literalFolders(pattern)) {
        let children = childMaps.get(node);
        if (!children) childMaps.set(node, (children = new Map()));
        let child = children.get(segment);
        if (!child) {
          child = newNode(segment, node.path ? `${node.path}/${segment}` : segment, node.depth + 1);
          children.set(segment, child);
          node.children.push(child);
        }
        node = child;
        node.total++;
        node.holders.set(claim.userId, (node.holders.get(claim.userId) ?? 0) + 1);
      }
      node.own.push({ claim, pattern });
    }
  }
  const sortChildren = (node: TreeNode) => {
    node.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of node.children) sortChildren(child);
  };
  sortChildren(root);

  // Recorded conflicts: mark the witness path as far as the tree reaches. A node whose every
  // conflict is latent says so: nothing that exists is contested there.
  const mark = (node: TreeNode, latent: boolean) => {
    node.conflictLatentOnly = node.conflict ? node.conflictLatentOnly && latent : latent;
    node.conflict = true;
  };
  for (const conflict of conflicts) {
    if (conflict.status === "resolved") continue;
    const latent = conflict.overlap === "latent";
    let node: TreeNode | undefined = root;
    mark(root, latent);
    for (const segment of conflict.witness.split("/")) {
      node = childMaps.get(node)?.get(segment);
      if (!node) break;
      mark(node, latent);
    }
  }

  // Overlaps: two patterns can only overlap when one's fixed folders are a prefix of the
  // other's, so each pattern is compared with those placed at its node and on its ancestors.
  // A pair the server already recorded as a conflict is shown as that conflict, not again as an overlap.
  const recorded = new Set<string>();
  for (const c of conflicts) {
    if (c.status === "resolved" || !c.claimId || !c.otherClaimId) continue;
    recorded.add(`${c.claimId}|${c.otherClaimId}`);
    recorded.add(`${c.otherClaimId}|${c.claimId}`);
  }
  const overlaps: Overlap[] = [];
  let tested = 0;
  let truncated = false;
  const onPath: { node: TreeNode; placed: Placed }[] = [];
  // The folders from the root to the one visited: one stack, not a copy per folder.
  const chain: TreeNode[] = [];
  const markAncestors = () => {
    for (const n of chain) n.overlap = true;
  };
  const visit = (node: TreeNode) => {
    if (truncated) return;
    chain.push(node);
    const base = onPath.length;
    for (const placed of node.own) {
      for (const other of onPath) {
        if (other.placed.claim.sessionId === placed.claim.sessionId) continue;
        if (recorded.has(`${other.placed.claim.id}|${placed.claim.id}`)) continue;
        if (++tested > budget) {
          truncated = true;
          return;
        }
        const witness = safeOverlap(other.placed.pattern, placed.pattern);
        if (witness === null) continue;
        const found: Overlap = {
          a: other.placed,
          b: placed,
          witness,
          conflicting: other.placed.claim.mode === "exclusive" || placed.claim.mode === "exclusive",
        };
        overlaps.push(found);
        other.node.overlapsHere.push(found);
        node.overlapsHere.push(found);
        markAncestors();
      }
      onPath.push({ node, placed });
    }
    for (const child of node.children) {
      visit(child);
      if (truncated) return;
    }
    onPath.length = base;
    chain.pop();
  };
  visit(root);

  const holders = [...holderTotals.entries()].sort((a, b) => b[1] - a[1]).map(([userId, n]) => ({ userId, patterns: n }));
  return { root, overlaps, overlapCheckTruncated: truncated, patterns, holders };
}

function safeOverlap(a: string, b: string): string | null {
  const pa = parsedOf(a);
  const pb = parsedOf(b);
  if (!pa || !pb) return null;
  try {
    return overlap(pa, pb);
  } catch {
    return null;
  }
}

/** Every pattern placed at the node or below it (for the detail panel), at most `limit`. */
export function placedUnder(node: TreeNode, limit = 500): Placed[] {
  const out: Placed[] = [];
  const walk = (n: TreeNode) => {
    for (const p of n.own) {
      if (out.length >= limit) return;
      out.push(p);
    }
    for (const c of n.children) {
      if (out.length >= limit) return;
      walk(c);
    }
  };
  walk(node);
  return out;
}

/** Finds a node by folder path. */
export function findNode(root: TreeNode, path: string): TreeNode | undefined {
  if (!path) return root;
  let node: TreeNode | undefined = root;
  for (const segment of path.split("/")) {
    node = node?.children.find((c) => c.name === segment);
    if (!node) return undefined;
  }
  return node;
}

/** Whether a pattern names a folder (and so whatever is inside it) rather than one file. */
export function isFolderPattern(pattern: string): boolean {
  const parsed = parsedOf(pattern);
  return !parsed || parsed.directoryOnly || parsed.segments.some((s) => s.kind !== "literal");
}
