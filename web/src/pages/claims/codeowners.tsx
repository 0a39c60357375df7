import { CodeownersRuleLink } from "../../components/links.js";
import { isFolderPattern, type TreeNode } from "../../lib/claims-tree.js";
import type { OwnersLookup } from "../../lib/owners.js";

const PLACEHOLDER_FILE = "\u2026";

/** Owners of what is inside a folder (or of the file, for a file claim), by the CODEOWNERS rules. */
export function ownersOf(index: OwnersLookup | null, node: TreeNode, cache: Map<string, string>): string {
  if (!index || !node.path) return "";
  const cached = cache.get(node.path);
  if (cached !== undefined) return cached;
  const isFile = node.children.length === 0 && node.own.length > 0 && node.own.every((p) => !isFolderPattern(p.pattern));
  let text = "";
  try {
    const match = index.owners(isFile ? node.path : `${node.path}/${PLACEHOLDER_FILE}`);
    text = match === null ? "" : match.owners.length === 0 ? "unowned" : match.owners.join(" ");
  } catch {
    text = "";
  }
  cache.set(node.path, text);
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
