import { type Db, transaction } from "../../infra/db.js";
import { WorkBudget, WorkBudgetExceeded } from "../../patterns/budget.js";
import { aPathInside, coversDirectory, directoryOf, insideDirectory, PatternIndex, validatePath } from "../../patterns/index.js";
import { overWorkBudget, patternErrors, validPatternsOrThrow } from "../../patterns/input.js";
import type { ClaimIndexCache, HeldPattern } from "../claims/claims.index.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf, requireRole, requireUserToken } from "../identity/guards.js";
import type { ContractSourceCache, SourceEntry } from "../contracts/contracts.sources.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { CodeownersIndex, parseCodeowners, type CodeownersError, type CodeownersRule } from "./codeowners.js";
import { type Check, type ModuleSet, OwnershipCache, type ParsedFile } from "./ownership.cache.js";
import { ownershipErrors } from "./ownership.errors.js";
import * as repo from "./ownership.repository.js";
import type { ModuleInput, OwnersOfInput, PutCodeownersInput, PutModuleInput, RepoInput } from "./ownership.schemas.js";
import { appendEvents } from "../../events/append.js";
import { ownershipEvents } from "./ownership.events.js";

export interface OwnershipDeps {
  db: Db;
  cache: ClaimIndexCache;
  /** Contracts' source patterns per repo, for "which contracts does this path define". */
  contracts?: ContractSourceCache | undefined;
  /** PATTERN_WORK_BUDGET: the bound on a directory's overlap search against held claims. */
  workBudget: number;
  /** This process's ownership caches, kept fresh by the bus (started and closed by the app). */
  owners: OwnershipCache;
}

function parsedFile(rules: readonly CodeownersRule[], errors: readonly CodeownersError[]): ParsedFile {
  return { index: new CodeownersIndex(rules), rules, errors };
}

function moduleSet(modules: repo.ModuleRow[]): ModuleSet {
  const index: ModuleSet["index"] = new PatternIndex();
  for (const module of modules)
    module.patterns.forEach((pattern, position) => index.add(`${module.id}#${position}`, pattern, { module, position }));
  return { modules, index };
}

/** Leads and admins change ownership, with a personal token (an agent's session token cannot). */
function requireOwnershipEditor(principal: Principal) {
  requireUserToken(principal);
  requireRole(principal, "lead", "admin");
}

function validPathOrThrow(path: string): string {
  const result = validatePath(path);
  if (!result.ok)
    throw patternErrors.invalidPath(`Invalid path "${path.slice(0, 80)}": ${result.reason}.`, {
      errors: [{ field: "path", reason: result.reason }],
    });
  return path;
}

/** Stores a repo's CODEOWNERS: bad lines are reported and skipped, good ones kept (as GitHub does). */
export async function putCodeowners({ db, owners }: Pick<OwnershipDeps, "db" | "owners">, principal: Principal, input: PutCodeownersInput) {
  requireOwnershipEditor(principal);
  const repoKey = repoKeyOrThrow(input.repo).key;
  const { rules, errors } = parseCodeowners(input.content);
  const fileError = errors.find((e) => e.line === 0);
  if (fileError)
    throw ownershipErrors.codeownersTooLarge(`CODEOWNERS not stored: ${fileError.reason}.`, {
      errors: [{ field: "content", reason: fileError.reason }],
    });

  const saved = await transaction(db, async (tx) => {
    const row = await repo.upsertCodeowners(tx, {
      orgId: principal.orgId,
      repo: repoKey,
      content: input.content,
      updatedBy: principal.userId,
    });
    await appendEvents(tx, principal.orgId, [
      ownershipEvents.event({
        type: "codeowners.updated",
        actor: actorOf(principal),
        subject: { type: "repo", id: repoKey },
        repo: repoKey,
        payload: { rules: rules.length, errors: errors.length },
      }),
    ]);
    return row;
  });
  // Already parsed: the next owners lookup here need not parse it again.
  const key = OwnershipCache.key(principal.orgId, repoKey);
  owners.files.set(key, saved.version, parsedFile(rules, errors));
  owners.invalidate(key);
  return { repo: repoKey, rules: rules.length, errors, updatedAt: saved.updatedAt };
}

export async function getCodeowners({ db, owners }: Pick<OwnershipDeps, "db" | "owners">, principal: Principal, input: RepoInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const row = await repo.findCodeowners(db, principal.orgId, repoKey);
  if (!row) throw ownershipErrors.codeownersNotFound(`No CODEOWNERS uploaded for ${repoKey}.`);
  const file = await owners.files.through(OwnershipCache.key(principal.orgId, repoKey), row.version, async () => {
    const { rules, errors } = parseCodeowners(row.content);
    return { version: row.version, value: parsedFile(rules, errors) };
  });
  return { repo: repoKey, content: row.content, rules: file.rules, errors: file.errors, updatedAt: row.updatedAt };
}

export async function putModule({ db, owners }: Pick<OwnershipDeps, "db" | "owners">, principal: Principal, input: PutModuleInput) {
  requireOwnershipEditor(principal);
  const repoKey = repoKeyOrThrow(input.repo).key;
  const patterns = validPatternsOrThrow(input.patterns);
  const teamId = input.teamId ?? null;
  const module = await transaction(db, async (tx) => {
    if (teamId && !(await repo.teamExists(tx, principal.orgId, teamId))) {
      throw identityErrors.teamNotFound(`No team ${teamId} in this organisation.`, {
        errors: [{ field: "teamId", reason: "no such team" }],
      });
    }
    const module = await repo.upsertModule(tx, { orgId: principal.orgId, repo: repoKey, name: input.name, patterns, teamId });
    await appendEvents(tx, principal.orgId, [
      ownershipEvents.event({
        type: "module.updated",
        actor: actorOf(principal),
        subject: { type: "module", id: module.id },
        repo: repoKey,
        payload: { name: module.name, patterns, teamId },
      }),
    ]);
    return module;
  });
  owners.invalidate(OwnershipCache.key(principal.orgId, repoKey));
  return module;
}

export async function listModules({ db }: Pick<OwnershipDeps, "db">, principal: Principal, input: RepoInput) {
  return repo.listModules(db, principal.orgId, repoKeyOrThrow(input.repo).key);
}

export async function deleteModule({ db, owners }: Pick<OwnershipDeps, "db" | "owners">, principal: Principal, input: ModuleInput) {
  requireOwnershipEditor(principal);
  const repoKey = repoKeyOrThrow(input.repo).key;
  const module = await transaction(db, async (tx) => {
    const module = await repo.deleteModule(tx, principal.orgId, repoKey, input.name);
    if (!module) throw ownershipErrors.moduleNotFound(`No module "${input.name}" in ${repoKey}.`);
    await appendEvents(tx, principal.orgId, [
      ownershipEvents.event({
        type: "module.deleted",
        actor: actorOf(principal),
        subject: { type: "module", id: module.id },
        repo: repoKey,
        payload: { name: module.name },
      }),
    ]);
    return module;
  });
  owners.invalidate(OwnershipCache.key(principal.orgId, repoKey));
  return module;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Checks the repo's versions in one small query (what `liveIndex` reads for claims, folded in
 * with the CODEOWNERS and modules tokens), then takes the parsed file, module index and claim
 * index from the caches, loading only what changed.
 */
function checkRepo(ctx: OwnershipDeps, orgId: string, repoKey: string, key: string): Check {
  return async () => {
    const { db, owners } = ctx;
    const versions = await repo.readOwnershipVersions(db, orgId, repoKey);
    const [claims, file, modules, contracts] = await Promise.all([
      ctx.cache.sync(db, orgId, repoKey, versions.claims),
      versions.codeowners === null
        ? null
        : owners.files.through(key, versions.codeowners, async () => {
            const row = await repo.findCodeowners(db, orgId, repoKey);
            // Deleted in between: an empty file answers as "no rule matches" until the next check.
            if (!row) return { version: "", value: parsedFile([], []) };
            const { rules, errors } = parseCodeowners(row.content);
            return { version: row.version, value: parsedFile(rules, errors) };
          }),
      versions.modules === null
        ? null
        : owners.modules.through(key, versions.modules, async () => ({
            version: versions.modules!,
            value: moduleSet(await repo.listModules(db, orgId, repoKey)),
          })),
      ctx.contracts ? ctx.contracts.sync(db, orgId, repoKey, versions.contracts) : null,
    ]);
    return { file, modules, claims, contracts, dbNow: versions.now.getTime() };
  };
}

/**
 * Everything that says who owns a path: the CODEOWNERS rule that decides (the last matching
 * line), the named modules containing it, and the live claims covering it.
 *
 * A directory, named with a trailing `/`, is read as GitHub reads CODEOWNERS for one: the rule
 * and the modules that cover everything inside it; and, since a claim on any file inside it
 * touches it, every live claim on something inside, with an example path.
 */
export async function ownersOf(ctx: OwnershipDeps, principal: Principal, input: OwnersOfInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const dir = directoryOf(input.path);
  const path = validPathOrThrow(dir ?? input.path);
  const key = OwnershipCache.key(principal.orgId, repoKey);
  const {
    file,
    modules: moduleIndex,
    claims: claimIndex,
    contracts: contractIndex,
    dbNow,
    checkedAt,
  } = await ctx.owners.snapshot(key, checkRepo(ctx, principal.orgId, repoKey, key));
  // The database clock, carried forward by this process's clock since the check.
  const now = dbNow + (Date.now() - checkedAt);

  let codeowners = null;
  if (file) {
    const match = dir === null ? file.index.owners(path) : file.index.ownersOfDirectory(dir);
    codeowners = match
      ? { owners: match.owners, rule: { line: match.rule.line, pattern: match.rule.pattern }, unowned: match.owners.length === 0 }
      : { owners: [], rule: null, unowned: false };
  }

  const modules = new Map<string, { name: string; patterns: string[]; teamId: string | null; matchedPattern: string; position: number }>();
  const moduleMatches =
    dir === null
      ? (moduleIndex?.index.matching(path) ?? [])
      : (moduleIndex?.index.matching(aPathInside(dir)) ?? []).filter((entry) => coversDirectory(entry.pattern, dir));
  for (const { pattern, value } of moduleMatches) {
    const seen = modules.get(value.module.name);
    // The module's first pattern (in its own order) that matches explains the match.
    if (seen && seen.position <= value.position) continue;
    modules.set(value.module.name, {
      name: value.module.name,
      patterns: value.module.patterns,
      teamId: value.module.teamId,
      matchedPattern: pattern,
      position: value.position,
    });
  }

  // Claims: on a file, those matching it; on a directory, those on anything inside it, each with
  // a path they share with it (held patterns can be wildcard-heavy: bounded pattern work).
  const live = (held: HeldPattern) => held.expiresAt > now;
  let touching: { pattern: string; value: HeldPattern; example?: string }[];
  if (dir === null) touching = claimIndex.matching(path).filter((e) => live(e.value));
  else {
    try {
      touching = (await claimIndex.overlappingWithin(insideDirectory(dir), new WorkBudget(ctx.workBudget), { accept: live })).map((e) => ({
        pattern: e.pattern,
        value: e.value,
        example: e.witness,
      }));
    } catch (error) {
      if (error instanceof WorkBudgetExceeded) throw patternErrors.tooComplex(...overWorkBudget("This directory's owners", error));
      throw error;
    }
  }
  const seenClaims = new Set<string>();
  const claims = touching
    .filter((e) => !seenClaims.has(e.value.claimId) && seenClaims.add(e.value.claimId))
    .map(({ pattern, value: held, example }) => ({
      claimId: held.claimId,
      holder: { sessionId: held.sessionId, userId: held.userId, agent: { id: held.agentId, name: held.agentName } },
      mode: held.mode,
      reason: held.reason,
      pattern,
      ...(example === undefined ? {} : { example }),
      since: held.grantedAt,
      expiresAt: held.expiresAt,
    }))
    .sort((a, b) => a.since - b.since || (a.claimId < b.claimId ? -1 : 1));

  // The contracts this path helps define (their source patterns cover it, or for a directory,
  // cover something inside it).
  const contracts = new Map<string, { name: string; kind: SourceEntry["kind"]; providerTeamId: string; matchedPattern: string }>();
  const sources = dir === null ? (contractIndex?.matching(path) ?? []) : (contractIndex?.overlapping(insideDirectory(dir)) ?? []);
  for (const { pattern, value } of sources) {
    if (!contracts.has(value.contractId))
      contracts.set(value.contractId, {
        name: value.name,
        kind: value.kind,
        providerTeamId: value.providerTeamId,
        matchedPattern: pattern,
      });
  }

  const people = await ctx.owners.people(
    ctx.db,
    principal.orgId,
    claims.map((c) => c.holder.userId),
  );
  return {
    repo: repoKey,
    path: input.path,
    directory: dir !== null,
    codeowners,
    modules: [...modules.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(({ position: _, ...m }) => m),
    claims: claims.map((c) => ({ ...c, holderName: people.name(c.holder.userId), since: iso(c.since), expiresAt: iso(c.expiresAt) })),
    contracts: [...contracts.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}
