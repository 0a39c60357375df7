import { CodeownersRuleLink } from "../../components/links.js";
import { isFolderPattern, type TreeNode } from "../../lib/claims-tree.js";
import type { OwnersLookup } from "../../lib/owners.js";

const PLACEHOLDER_FILE = "\u2026";

/** Owners of what is inside a folder (or of the file, for a file claim), by the CODEOWNERS rules. */
export function ownersOf(index: OwnersLookup | null, node: TreeNode, cache: Map<string, string>): string {
  if (!index || !node.path) return "";
  const isFile = node.children.length === 0 && node.own.length > 0 && node.own.every((p) => !isFolderPattern(p.pattern));
  // By path and kind, not by node: the answer outlives the live map's rebuilds (every second
  // while claims stream in), and each open row would otherwise ask the index again.
  const key = `${isFile ? "file" : "folder"}:${node.path}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let text = "";
  try {
    const match = index.owners(isFile ? node.path : `${node.path}/${PLACEHOLDER_FILE}`);
    text = match === null ? "" : match.owners.length === 0 ? "unowned" : match.owners.join(" ");
  } catch {
    text = "";
  }
  cache.set(key, text);
  return text;
}

export function OwnersLine({ repo, lookup, node }: { repo: string; lookup: OwnersLookup; node: TreeNode }) {
  const isFile = node.children.length === 0 && node.own.length > 0 && node.own.every((p) => !isFolderPattern(p.pattern));
  let match: ReturnType<OwnersLookup["owners"]> = null;
  try {
    match = lookup.owners(isFile ? node.path : `${node.path}/${PLACEHOLDER_FILE}`);
  } catch {
    match = null;
  }
  return (
    <p data-testid="codeowners">
      <strong>CODEOWNERS{isFile ? "" : " (files in this folder)"}:</strong>{" "}
      {match === null ? (
        "no rule matches"
      ) : (
        <>
          {match.owners.length === 0 ? "explicitly unowned" : match.owners.join(" ")}{" "}
          <span class="muted">
            (<CodeownersRuleLink repo={repo} line={match.rule.line} />: <code>{match.rule.pattern}</code>)
          </span>
        </>
      )}
    </p>
  );
}
