import { appendEvents } from "../../events/append.js";
import { type Db, transaction } from "../../infra/db.js";
import { actorOf, requireRole, requireUserToken } from "../identity/guards.js";
import type { Principal } from "../identity/identity.schemas.js";
import { repoKeyOrThrow } from "./repo-key.js";
import { reposErrors } from "./repos.errors.js";
import { repoEvents } from "./repos.events.js";
import * as repo from "./repos.repository.js";
import type { PutLinkTemplateInput, RepoInput } from "./repos.schemas.js";

/** A repository's link template says where its code is for everyone: an admin's setting, with a personal token. */
function requireSettingsEditor(principal: Principal) {
  requireUserToken(principal);
  requireRole(principal, "admin");
}

export async function putLinkTemplate({ db }: { db: Db }, principal: Principal, input: PutLinkTemplateInput) {
  requireSettingsEditor(principal);
  const repoKey = repoKeyOrThrow(input.repo).key;
  return transaction(db, async (tx) => {
    const row = await repo.upsertLinkTemplate(tx, {
      orgId: principal.orgId,
      repo: repoKey,
      template: input.template,
      updatedBy: principal.userId,
    });
    await appendEvents(tx, principal.orgId, [
      repoEvents.event({
        type: "repo.link_template_set",
        actor: actorOf(principal),
        subject: { type: "repo", id: repoKey },
        repo: repoKey,
        payload: { template: input.template },
      }),
    ]);
    return row;
  });
}

export async function getLinkTemplate({ db }: { db: Db }, principal: Principal, input: RepoInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const row = await repo.findLinkTemplate(db, principal.orgId, repoKey);
  if (!row) throw reposErrors.linkTemplateNotFound(`No link template is set for ${repoKey}: its links are derived from its key.`);
  return row;
}

/** The template removed; 404 when there was none (the links were derived already). */
export async function removeLinkTemplate({ db }: { db: Db }, principal: Principal, input: RepoInput) {
  requireSettingsEditor(principal);
  const repoKey = repoKeyOrThrow(input.repo).key;
  return transaction(db, async (tx) => {
    const removed = await repo.deleteLinkTemplate(tx, principal.orgId, repoKey);
    if (!removed) throw reposErrors.linkTemplateNotFound(`No link template is set for ${repoKey}.`);
    await appendEvents(tx, principal.orgId, [
      repoEvents.event({
        type: "repo.link_template_removed",
        actor: actorOf(principal),
        subject: { type: "repo", id: repoKey },
        repo: repoKey,
        payload: {},
      }),
    ]);
    return removed;
  });
}

export async function listLinkTemplates({ db }: { db: Db }, principal: Principal) {
  return repo.listLinkTemplates(db, principal.orgId);
}
