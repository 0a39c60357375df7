import type { Config } from "../../config.js";
import { type Db, transaction } from "../../infra/db.js";
import { appendEvents } from "../../events/append.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf, requireSessionScope } from "../identity/guards.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { getSession } from "../sessions/sessions.usecases.js";
import type { RepoTree } from "../../patterns/tree.js";
import { buildTree, packTree, type TreeCache } from "./trees.cache.js";
import { treeErrors } from "./trees.errors.js";
import { treeEvents } from "./trees.events.js";
import * as repo from "./trees.repository.js";
import type { PatchTreeInput, PutTreeInput } from "./trees.schemas.js";

export interface TreeDeps {
  db: Db;
  cache: TreeCache;
  config: Pick<Config, "TREE_MAX_FILES">;
}

/**
 * The session an upload comes from, when there is one: the caller's own, active, in this repo
 * (its branch is recorded with the tree). A personal token may upload without one (a CI job).
 */
async function uploadingSession(db: Db, principal: Principal, repoKey: string, given: string | undefined) {
  const id = given ?? principal.sessionId;
  if (!id) return null;
  requireSessionScope(principal, id);
  const session = await getSession({ db }, principal, id).catch(() => null);
  if (!session || session.userId !== principal.userId) throw sessionErrors.notFound(`No session ${id} of yours in this organisation.`);
  if (session.status !== "active") throw sessionErrors.notActive(`Session ${id} has ended.`);
  if (session.repo !== repoKey)
    throw treeErrors.repoMismatch(`Session ${id} works in ${session.repo}, not ${repoKey}.`, {
      errors: [{ field: "repo", reason: `is not the session's repo (${session.repo})` }],
    });
  return session;
}

function checkSize(config: TreeDeps["config"], tree: RepoTree) {
  if (tree.size > config.TREE_MAX_FILES)
    throw treeErrors.tooLarge(`The list has ${tree.size} files; the limit is ${config.TREE_MAX_FILES} (TREE_MAX_FILES).`, {
      limit: "TREE_MAX_FILES",
    });
}

async function store(
  deps: TreeDeps,
  principal: Principal,
  input: { repoKey: string; treeId: string; commit: string | undefined; tree: RepoTree; delta: boolean },
  session: Awaited<ReturnType<typeof uploadingSession>>,
  expectGeneration: number | null,
) {
  const paths = await packTree(input.tree);
  const saved = await transaction(deps.db, async (tx) => {
    if (expectGeneration !== null) {
      // A delta applies to the tree it was computed against: another upload in between means resend.
      const current = await repo.findTreeHead(tx, principal.orgId, input.repoKey, { forUpdate: true });
      if (current?.generation !== expectGeneration)
        throw treeErrors.baseMismatch("The tree changed while this delta was applied; send the whole list (PUT).", {
          currentTreeId: current?.treeId ?? null,
        });
    }
    const row = await repo.saveTree(tx, {
      orgId: principal.orgId,
      repo: input.repoKey,
      treeId: input.treeId,
      branch: session?.branch ?? null,
      commitId: input.commit ?? null,
      files: input.tree.size,
      paths,
      updatedBy: principal.userId,
      sessionId: session?.id ?? null,
    });
    await appendEvents(tx, principal.orgId, [
      treeEvents.event({
        type: "tree.updated",
        actor: actorOf(principal),
        subject: { type: "repo", id: input.repoKey },
        repo: input.repoKey,
        payload: { treeId: input.treeId, branch: row.branch, files: row.files, delta: input.delta, sessionId: row.sessionId },
      }),
    ]);
    return row;
  });
  deps.cache.put(principal.orgId, input.repoKey, { treeId: saved.treeId, generation: saved.generation, tree: input.tree });
  return saved;
}

/** Stores a repo's whole tracked-file list (a repeat of the tree the server has stores nothing). */
export async function putTree(deps: TreeDeps, principal: Principal, input: PutTreeInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const session = await uploadingSession(deps.db, principal, repoKey, input.sessionId);
  const current = await repo.findTreeHead(deps.db, principal.orgId, repoKey);
  if (current?.treeId === input.treeId) return { ...current, unchanged: true, ignored: 0 };
  const { tree, ignored } = await buildTree([input.paths]);
  checkSize(deps.config, tree);
  const saved = await store(deps, principal, { repoKey, treeId: input.treeId, commit: input.commit, tree, delta: false }, session, null);
  return { ...saved, unchanged: false, ignored };
}

/** Applies a delta to the tree the server has; 412 when its base is not that tree. */
export async function patchTree(deps: TreeDeps, principal: Principal, input: PatchTreeInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const session = await uploadingSession(deps.db, principal, repoKey, input.sessionId);
  const current = await deps.cache.get(principal.orgId, repoKey);
  if (current?.treeId === input.treeId) {
    const head = await repo.findTreeHead(deps.db, principal.orgId, repoKey);
    if (head?.treeId === input.treeId) return { ...head, unchanged: true, ignored: 0 };
  }
  if (!current || current.treeId !== input.base)
    throw treeErrors.baseMismatch(
      current
        ? `The server has tree ${current.treeId}, not ${input.base}; send the whole list (PUT).`
        : "The server has no tree for this repo; send the whole list (PUT).",
      { currentTreeId: current?.treeId ?? null },
    );
  const { tree, ignored } = await buildTree([current.tree.paths(), input.added], new Set(input.removed));
  checkSize(deps.config, tree);
  const saved = await store(
    deps,
    principal,
    { repoKey, treeId: input.treeId, commit: input.commit, tree, delta: true },
    session,
    current.generation,
  );
  return { ...saved, unchanged: false, ignored };
}

export async function getTree({ db }: Pick<TreeDeps, "db">, principal: Principal, input: { repo: string }) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const head = await repo.findTreeHead(db, principal.orgId, repoKey);
  if (!head) throw treeErrors.notFound(`No tree was uploaded for ${repoKey}.`);
  return head;
}
