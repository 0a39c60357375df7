/**
 * Uploading a repository's tracked-file list, so that Brigade classifies overlaps between
 * claims as real (existing files on both sides) or latent (only paths that do not exist).
 *
 * Cheap by design: the server's tree id is asked first and nothing is sent when it matches;
 * when the server has an older tree this side can diff against, only the difference is sent
 * (PATCH); otherwise the whole list, gzipped (a 1,000,000-file list is about 60 MB of JSON and
 * a few MB gzipped). A 412 on the delta (someone else uploaded meanwhile) falls back to PUT.
 */
import { gzipSync } from "node:zlib";
import { BrigadeError, ok, type BrigadeClient, type Schemas } from "./client.js";

export interface TreeSource {
  repo: string;
  /** `git rev-parse HEAD^{tree}`. */
  treeId: string;
  commit?: string | undefined;
  sessionId?: string | undefined;
  /** Every tracked file (`git ls-files -z`), asked only when the whole list is sent. */
  listFiles: () => Promise<string[]>;
  /** The change from `base` to this tree, or null when `base` is unknown here (not fetched). */
  diff?: ((base: string) => Promise<{ added: string[]; removed: string[] } | null>) | undefined;
}

export type TreeSync = { sent: "nothing" | "delta" | "full"; tree: Schemas["RepoTree"] };

const gzipJson = (body: unknown) => gzipSync(JSON.stringify(body)) as unknown as string;

export async function syncTree(client: BrigadeClient, source: TreeSource): Promise<TreeSync> {
  const params = { path: { repo: source.repo } };
  let current: Schemas["RepoTree"] | null = null;
  try {
    current = await ok(client.api.GET("/v1/repos/{repo}/tree", { params }));
  } catch (error) {
    if (!(error instanceof BrigadeError && error.status === 404)) throw error;
  }
  if (current?.treeId === source.treeId) return { sent: "nothing", tree: current };
  const common = { ...(source.commit ? { commit: source.commit } : {}), ...(source.sessionId ? { sessionId: source.sessionId } : {}) };
  const gzipped = { bodySerializer: gzipJson, headers: { "content-encoding": "gzip", "content-type": "application/json" } };
  if (current && source.diff) {
    const change = await source.diff(current.treeId).catch(() => null);
    if (change) {
      try {
        const tree = await ok(
          client.api.PATCH("/v1/repos/{repo}/tree", {
            params,
            body: { base: current.treeId, treeId: source.treeId, added: change.added, removed: change.removed, ...common },
            ...gzipped,
          }),
        );
        return { sent: "delta", tree };
      } catch (error) {
        if (!(error instanceof BrigadeError && error.status === 412)) throw error;
      }
    }
  }
  const paths = await source.listFiles();
  const tree = await ok(client.api.PUT("/v1/repos/{repo}/tree", { params, body: { treeId: source.treeId, paths, ...common }, ...gzipped }));
  return { sent: "full", tree };
}
