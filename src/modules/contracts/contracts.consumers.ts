import { transaction } from "../../infra/db.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf, requireUserToken } from "../identity/guards.js";
import { isProvider, loadContract, normaliseSource, requireActive, requireTeam, type ContractDeps } from "./contracts.common.js";
import { contractErrors } from "./contracts.errors.js";
import * as repo from "./contracts.repository.js";
import type { ConsumerRow } from "./contracts.repository.js";
import type { AddConsumerInput } from "./contracts.schemas.js";
import { appendEvents } from "../../events/append.js";
import { contractEvents } from "./contracts.events.js";

const consumerPayload = (c: ConsumerRow) => ({
  id: c.id,
  kind: c.kind,
  teamId: c.teamId,
  userId: c.userId,
  repo: c.repo,
  patterns: c.patterns,
});

export async function addConsumer(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: AddConsumerInput,
): Promise<{ consumer: ConsumerRow; created: boolean }> {
  requireUserToken(principal);
  const target =
    input.kind === "repo"
      ? { kind: input.kind, teamId: null, userId: null, ...normaliseSource({ repo: input.repo, patterns: input.patterns }, "")! }
      : input.kind === "team"
        ? { kind: input.kind, teamId: input.teamId, userId: null, repo: null, patterns: null }
        : { kind: input.kind, teamId: null, userId: input.userId, repo: null, patterns: null };
  return transaction(deps.db, async (tx) => {
    const contract = await loadContract(tx, principal, name);
    requireActive(contract);
    if (target.teamId) await requireTeam(tx, principal.orgId, target.teamId, "teamId");
    if (target.userId && !(await repo.userExists(tx, principal.orgId, target.userId))) {
      throw identityErrors.userNotFound(`No user ${target.userId} in this organisation.`, {
        errors: [{ field: "userId", reason: "no such user" }],
      });
    }
    const added = await repo.addConsumer(tx, { orgId: principal.orgId, contractId: contract.id, createdBy: principal.userId, ...target });
    if (added.created) {
      await appendEvents(tx, principal.orgId, [
        contractEvents.event({
          type: "contract.consumer_added",
          actor: actorOf(principal),
          subject: { type: "contract", id: contract.id },
          repo: contract.repo,
          payload: { contractId: contract.id, name: contract.name, consumer: consumerPayload(added.consumer) },
        }),
      ]);
    }
    return added;
  });
}

/** The provider side, leads and admins remove any consumer; a consumer (or whoever declared it) removes itself. */
export async function removeConsumer(deps: ContractDeps, principal: Principal, name: string, consumerId: string): Promise<ConsumerRow> {
  requireUserToken(principal);
  return transaction(deps.db, async (tx) => {
    const contract = await loadContract(tx, principal, name);
    const consumer = await repo.findConsumer(tx, contract.id, consumerId);
    if (!consumer) throw contractErrors.consumerNotFound(`Contract "${name}" has no consumer ${consumerId}.`);
    const itself =
      consumer.createdBy === principal.userId ||
      (consumer.kind === "user" && consumer.userId === principal.userId) ||
      (consumer.kind === "team" &&
        (await repo.memberTeams(tx, principal.orgId, principal.userId, [consumer.teamId!])).has(consumer.teamId!));
    if (!itself && !(await isProvider(tx, principal, contract.providerTeamId))) {
      throw identityErrors.forbidden("Only the provider team, leads, admins, or the consumer itself can remove a consumer.");
    }
    await repo.deleteConsumer(tx, consumer.id);
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.consumer_removed",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, consumer: consumerPayload(consumer) },
      }),
    ]);
    return consumer;
  });
}
