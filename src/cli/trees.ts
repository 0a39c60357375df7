/**
 * Keeps the server's copy of the repository's file list current, so it can tell real overlaps
 * between claims (existing files on both sides) from latent ones. Cheap when nothing changed:
 * one `git rev-parse`, compared with the tree id last sent (kept in the session's state file).
 */
import type { BrigadeClient } from "../sdk/client.js";
import { syncTree } from "../sdk/trees.js";
import { headTree, treeDiff, treeFiles } from "./git.js";
import { readSaved, type SavedSession, writeSaved } from "./state.js";

/** Long enough for `git ls-tree` of a very large repository, short enough for a hook. */
const GIT_TREE_TIMEOUT_MS = 20_000;

/**
 * Sends HEAD's file list when its tree id differs from `lastTreeId` (as a delta when possible);
 * returns the tree id the server now has, or `lastTreeId` when there is no commit yet.
 */
export async function sendTreeIfChanged(
  client: BrigadeClient,
  root: string,
  target: { repo: string; sessionId?: string | undefined; lastTreeId?: string | undefined },
): Promise<string | undefined> {
  const head = await headTree(root, GIT_TREE_TIMEOUT_MS);
  if (!head || head.treeId === target.lastTreeId) return head?.treeId ?? target.lastTreeId;
  await syncTree(client, {
    repo: target.repo,
    treeId: head.treeId,
    commit: head.commit,
    sessionId: target.sessionId,
    listFiles: () => treeFiles(root, head.treeId, GIT_TREE_TIMEOUT_MS),
    diff: (base) => treeDiff(root, base, head.treeId, GIT_TREE_TIMEOUT_MS),
  });
  return head.treeId;
}

/** `sendTreeIfChanged` for a session remembered in a state file, which then records the tree id sent. */
export async function refreshSavedTree(client: BrigadeClient, root: string, statePath: string, saved: SavedSession): Promise<void> {
  const treeId = await sendTreeIfChanged(client, root, { repo: saved.repo, sessionId: saved.id, lastTreeId: saved.treeId });
  if (treeId !== saved.treeId) writeSaved(statePath, { ...(readSaved(statePath) ?? saved), treeId });
}
