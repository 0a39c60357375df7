import { type Db, transaction } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf } from "../identity/guards.js";
import {
  actingSession,
  cap,
  EVENT_CHANGES,
  checkSize,
  loadContract,
  notifyConsumers,
  proposerRecipients,
  requireActive,
  requireProvider,
  type ContractDeps,
} from "./contracts.common.js";
import type { CompatibilityResult, Incompatibility, Summary } from "./contracts.diff.js";
import type { Assessment, CompatibilityView, ParsedText, VersionText } from "./contracts.pool.js";
import { contractErrors } from "./contracts.errors.js";
import * as repo from "./contracts.repository.js";
import type { ContractRow, VersionMeta, VersionWithContent } from "./contracts.repository.js";
import type { CheckVersionInput, DiffVersionsInput, ListVersionsInput, PublishVersionInput } from "./contracts.schemas.js";
import type { CompatibilityPolicy, DangerousPolicy } from "./contracts.table.js";
import { appendEvents } from "../../events/append.js";
import { contractEvents } from "./contracts.events.js";
import { checkContractBytes } from "./contracts.quota.js";
import type { PendingEvent } from "../../events/catalog.js";

export interface StoredCompatibility {
  policy: CompatibilityPolicy;
  /** Absent on versions stored before the setting existed (they were checked with allow). */
  dangerous?: DangerousPolicy;
  compatible: boolean;
  checkedAgainst: string[];
  /** The incompatibilities found (capped): overridden by force on a version, shown on a proposal. */
  breaking: Incompatibility[];
}

export type VersionView = VersionMeta & { contract: string; content?: string };

/** The history a policy checks against, oldest first: only the latest version unless the policy is transitive. */
export async function historyFor(
  deps: Pick<ContractDeps, "texts">,
  db: Db,
  contract: ContractRow,
  latest: VersionMeta | undefined,
): Promise<VersionText[]> {
  if (!latest) return [];
  if (!contract.compatibility.endsWith("_transitive"))
    return [{ label: latest.label, normalized: await deps.texts.normalizedOf(db, contract.id, latest.id) }];
  const all = await repo.versionHistory(db, contract.id);
  return all.map((v) => ({ label: v.label, normalized: v.normalized }));
}

const policyOptions = (contract: ContractRow) => ({ dangerous: contract.dangerous, protobufCategory: contract.protobufCategory });

/** The policy's verdict on a candidate, worked out in the contract worker pool. */
export const compatibilityOf = (deps: Pick<ContractDeps, "work">, contract: ContractRow, candidate: ParsedText, history: VersionText[]) =>
  deps.work.compatibility(contract.kind, contract.compatibility, candidate.normalized, history, policyOptions(contract));

/** What a candidate was judged against: the latest version then, and the settings that judged it. */
export interface Basis {
  latestId: string | null;
  settings: string;
}

const settingsOf = (contract: ContractRow) => JSON.stringify([contract.compatibility, contract.dangerous, contract.protobufCategory]);

/**
 * Parses a candidate and judges it against the contract's latest version as read now, in one
 * worker task and before any lock: the slow part of a publish, a proposal or a check (a parse and
 * a diff of megabytes) holds no lock and crosses to a worker once.
 */
export async function assessCandidate(
  deps: Pick<ContractDeps, "config" | "work" | "texts" | "db">,
  contract: ContractRow,
  content: string,
): Promise<Assessment & { basis: Basis; latest: VersionMeta | undefined }> {
  checkSize(deps.config, content);
  const latest = await repo.latestVersionMeta(deps.db, contract.id);
  const history = await historyFor(deps, deps.db, contract, latest);
  const assessed = await deps.work.assess(contract.kind, content, contract.compatibility, history, policyOptions(contract));
  return { ...assessed, latest, basis: { latestId: latest?.id ?? null, settings: settingsOf(contract) } };
}

/**
 * The verdict under the contract's row lock: the one worked out before the lock while it still
 * holds (the same latest version and settings), else worked out again against what is there
 * now (another publish or a settings change came in between).
 */
export async function verdictUnderLock(
  deps: Pick<ContractDeps, "work" | "texts">,
  tx: Db,
  contract: ContractRow,
  latest: VersionMeta | undefined,
  assessed: Assessment & { basis: Basis },
): Promise<{ verdict: CompatibilityView; rejudged: boolean }> {
  if ((latest?.id ?? null) === assessed.basis.latestId && settingsOf(contract) === assessed.basis.settings)
    return { verdict: assessed.verdict, rejudged: false };
  const verdict = await compatibilityOf(deps, contract, assessed.parsed, await historyFor(deps, tx, contract, latest));
  return { verdict, rejudged: true };
}

/** How the contract's settings make its diffs judge a change. */
const diffOptions = (contract: ContractRow) => ({ protobufCategory: contract.protobufCategory });

export const storedCompatibility = (result: CompatibilityResult): StoredCompatibility => ({
  policy: result.policy,
  dangerous: result.dangerous,
  compatible: result.compatible,
  checkedAgainst: result.checkedAgainst,
  breaking: cap(result.breaking),
});

function incompatibleError(contract: ContractRow, result: CompatibilityView) {
  const first = result.breaking[0]!;
  const n = result.breakingTotal;
  const what = result.dangerous === "block" ? "breaking or dangerous (dangerous: block)" : "breaking";
  return contractErrors.incompatible(
    `This version is incompatible with "${contract.name}"'s ${result.policy} policy: ${n} ${what} change${n === 1 ? "" : "s"} against ${[...new Set(result.breaking.map((b) => b.against))].join(", ")}, e.g. ${first.message} (at ${first.location}). Publish a compatible version, change the policy, or publish with force: true and a reason (consumers are alerted).`,
    { policy: result.policy, breaking: cap(result.breaking) },
  );
}

async function labelConflictError(
  deps: Pick<ContractDeps, "work">,
  contract: ContractRow,
  existing: VersionWithContent,
  parsed: ParsedText,
) {
  const { changes, summary, changesTotal } = await deps.work.diff(
    contract.kind,
    existing.normalized,
    parsed.normalized,
    diffOptions(contract),
  );
  return contractErrors.labelConflict(
    `Label ${existing.label} of "${contract.name}" is version ${existing.seq}, with different content (${changesTotal} change${changesTotal === 1 ? "" : "s"}). Labels name one content for ever: publish under a new label.`,
    {
      errors: [{ field: "label", reason: "already names other content" }],
      label: existing.label,
      existing: { label: existing.label, hash: existing.hash, seq: existing.seq },
      diff: { summary, changes: cap(changes), changesTotal },
    },
  );
}

const versionRef = (contract: ContractRow, v: { id: string; label: string }, previousLabel: string | null, summary: Summary) => ({
  contractId: contract.id,
  name: contract.name,
  versionId: v.id,
  label: v.label,
  previousLabel,
  summary,
});

export interface Published {
  version: VersionView;
  created: boolean;
  breaking: Incompatibility[];
  proposalsClosed: string[];
  /** Milliseconds spent parsing, diffing (and checking the policy) in a worker, and in the database. */
  timings: { parse: number; diff: number; store: number };
}

/**
 * Publishes a version. Idempotent by content: the same content as the latest version (or as
 * the version already holding this label) returns that version (created: false). A label
 * names one content for ever: a label held by other content is a 409 with the diff. Other
 * content already seen earlier (a revert) is a new version. The policy decides compatibility;
 * an incompatible version is a 409 listing its breaking changes, unless forced with a reason,
 * which is recorded and sent to every consumer with `contract.breaking_change`. A compatible
 * change alerts consumers with `contract.changed`. Open proposals of this content close.
 */
export async function publishVersion(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: PublishVersionInput,
): Promise<Published> {
  if (input.force && !input.reason)
    throw contractErrors.reasonRequired("force: true needs a reason: it is recorded on the version and sent to the consumers.", {
      errors: [{ field: "reason", reason: "is required with force" }],
    });
  const known = await loadContract(deps.db, principal, name);
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  // Checked again under the lock; here so that a refused request costs no parse or diff.
  requireActive(known);
  await requireProvider(deps.db, principal, known, "publish versions of");
  await checkContractBytes(deps, principal.orgId, input.content);
  const started = performance.now();
  const assessed = await assessCandidate(deps, known, input.content);
  const { parsed } = assessed;
  const timings = { parse: assessed.ms.parse, diff: assessed.ms.diff, store: 0 };
  // What the task took beyond its parse and diff (reading the latest version, the trip to a
  // worker, waiting for a free one) is counted with the database's part.
  let beforeLock = performance.now() - started - timings.parse - timings.diff;

  const storeStart = performance.now();
  const published = await transaction(deps.db, async (tx): Promise<Omit<Published, "timings">> => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    requireActive(contract);
    await requireProvider(tx, principal, contract, "publish versions of");
    const view = (v: VersionMeta): VersionView => ({ ...v, contract: contract.name });

    const byLabel = await repo.findVersion(tx, contract.id, input.label, { content: true });
    if (byLabel) {
      if (byLabel.hash === parsed.hash) return { version: view(byLabel), created: false, breaking: [], proposalsClosed: [] };
      throw await labelConflictError(deps, contract, byLabel, parsed);
    }
    const latest = await repo.latestVersionMeta(tx, contract.id);
    if (latest && latest.hash === parsed.hash) {
      // The same content again: answered as before, with the version's content.
      const same = (await repo.findVersion(tx, contract.id, latest.label, { content: true })) ?? latest;
      return { version: view(same), created: false, breaking: [], proposalsClosed: [] };
    }

    const diffStart = performance.now();
    const { verdict: result, rejudged } = await verdictUnderLock(deps, tx, contract, latest, assessed);
    if (rejudged) {
      timings.diff += performance.now() - diffStart;
      beforeLock -= performance.now() - diffStart;
    }
    if (!result.compatible && !input.force) throw incompatibleError(contract, result);
    const forced = !result.compatible;
    const summary = result.summary;
    const version = await repo.insertVersion(tx, {
      orgId: principal.orgId,
      contractId: contract.id,
      seq: (latest?.seq ?? 0) + 1,
      label: input.label,
      hash: parsed.hash,
      content: input.content,
      normalized: parsed.normalized,
      branch: input.branch ?? null,
      sessionId,
      publishedBy: principal.userId,
      previousVersionId: latest?.id ?? null,
      changes: cap(result.changes),
      changesTotal: result.changesTotal,
      summary,
      compatibility: storedCompatibility(result),
      forced,
      forceReason: forced ? input.reason! : null,
    });

    const open = await repo.openProposalsWithHash(tx, contract.id, parsed.hash);
    const closed = await repo.closeProposals(
      tx,
      open.map((p) => p.id),
      { status: "published", closedBy: principal.userId, versionId: version.id },
    );
    const actor = actorOf(principal);
    const subject = { type: "contract", id: contract.id };
    const ref = versionRef(contract, version, latest?.label ?? null, summary);
    const consumers = latest || closed.length > 0 ? await notifyConsumers(tx, deps, principal.orgId, contract.id) : [];
    const events: PendingEvent[] = [
      contractEvents.event({
        type: "contract.version_published",
        actor,
        subject,
        repo: contract.repo,
        payload: {
          ...ref,
          hash: version.hash,
          seq: version.seq,
          compatible: result.compatible,
          policy: result.policy,
          forced,
          reason: version.forceReason,
          branch: version.branch,
          sessionId,
        },
      }),
    ];
    if (latest && forced) {
      events.push(
        contractEvents.event({
          type: "contract.breaking_change",
          actor,
          subject,
          repo: contract.repo,
          payload: {
            ...ref,
            policy: result.policy,
            reason: input.reason!,
            breaking: cap(result.breaking, EVENT_CHANGES),
            breakingTotal: result.breakingTotal,
            sessionId,
          },
          notify: consumers,
        }),
      );
    } else if (latest) {
      events.push(
        contractEvents.event({
          type: "contract.changed",
          actor,
          subject,
          repo: contract.repo,
          payload: { ...ref, changes: cap(result.changes, EVENT_CHANGES), changesTotal: result.changesTotal },
          notify: consumers,
        }),
      );
    }
    for (const p of closed) {
      events.push(
        contractEvents.event({
          type: "contract.proposal_closed",
          actor,
          subject: { type: "contract_proposal", id: p.id },
          repo: contract.repo,
          payload: {
            contractId: contract.id,
            name: contract.name,
            proposalId: p.id,
            resolution: "published",
            label: version.label,
            reason: null,
          },
          notify: [...consumers, ...proposerRecipients(p)],
        }),
      );
    }
    await appendEvents(tx, principal.orgId, events);
    const meta = (await repo.findVersionById(tx, version.id))!;
    return { version: view(meta), created: true, breaking: forced ? cap(result.breaking) : [], proposalsClosed: closed.map((p) => p.id) };
  });
  timings.store = Math.max(0, performance.now() - storeStart + beforeLock);
  // The next publish or check of this contract diffs against this version: its text stays at hand.
  if (published.created) deps.texts.remember(known.id, published.version.id, parsed.normalized);
  return { ...published, timings };
}

export type CheckOutcome = "compatible" | "incompatible" | "unchanged" | "label_conflict";

/** The dry run of a publish ("can I merge this?"): what publishing would do, storing nothing. */
export async function checkVersion(deps: ContractDeps, principal: Principal, name: string, input: CheckVersionInput) {
  const contract = await loadContract(deps.db, principal, name);
  const { parsed, verdict: result, latest } = await assessCandidate(deps, contract, input.content);
  const byLabel = input.label ? await repo.findVersion(deps.db, contract.id, input.label, { content: true }) : undefined;
  let outcome: CheckOutcome = result.compatible ? "compatible" : "incompatible";
  if (byLabel && byLabel.hash !== parsed.hash) outcome = "label_conflict";
  else if (byLabel || (latest && latest.hash === parsed.hash)) outcome = "unchanged";
  return {
    contract: contract.name,
    outcome,
    compatible: result.compatible,
    policy: result.policy,
    dangerous: result.dangerous,
    checkedAgainst: result.checkedAgainst,
    latest: latest?.label ?? null,
    hash: parsed.hash,
    summary: result.summary,
    changes: cap(result.changes),
    changesTotal: result.changesTotal,
    breaking: cap(result.breaking),
  };
}

async function resolveVersion(
  db: Db,
  contract: ContractRow,
  ref: string,
  options: { content?: boolean } = {},
): Promise<VersionWithContent> {
  const version = ref === "latest" ? await repo.latestVersion(db, contract.id) : await repo.findVersion(db, contract.id, ref, options);
  if (!version)
    throw contractErrors.versionNotFound(
      ref === "latest" ? `Contract "${contract.name}" has no versions yet.` : `Contract "${contract.name}" has no version ${ref}.`,
    );
  return version;
}

export async function getVersion(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, ref: string): Promise<VersionView> {
  const contract = await loadContract(deps.db, principal, name);
  const { normalized: _, ...version } = await resolveVersion(deps.db, contract, ref, { content: true });
  return { ...version, contract: contract.name };
}

export async function listVersions(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, query: ListVersionsInput) {
  const contract = await loadContract(deps.db, principal, name);
  const rows = await repo.listVersions(deps.db, contract.id, query.cursor ? decodeCursor(query.cursor) : undefined, query.limit + 1);
  const page = toPage(rows, query.limit);
  return { items: page.items.map((v): VersionView => ({ ...v, contract: contract.name })), nextCursor: page.nextCursor };
}

export async function diffVersions(deps: Pick<ContractDeps, "db" | "work">, principal: Principal, name: string, query: DiffVersionsInput) {
  const contract = await loadContract(deps.db, principal, name);
  const [from, to] = await Promise.all([
    resolveVersion(deps.db, contract, query.from, { content: true }),
    resolveVersion(deps.db, contract, query.to, { content: true }),
  ]);
  const { changes, summary, changesTotal } = await deps.work.diff(contract.kind, from.normalized, to.normalized, diffOptions(contract));
  return {
    contract: contract.name,
    from: from.label,
    to: to.label,
    summary,
    changes: cap(changes),
    changesTotal,
  };
}
