import { and, asc, count, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { isUniqueViolation, secondsFromNow, type Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { identityErrors } from "./identity.errors.js";
import { DELETED_USER_NAME, type Role } from "./identity.schemas.js";
import { orgs } from "../../infra/orgs.table.js";
import { teamMembers, teams, tokens, users } from "./identity.table.js";

export type OrgRow = typeof orgs.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type TokenRow = typeof tokens.$inferSelect;

export async function countOrgs(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(orgs);
  return row?.n ?? 0;
}

export async function insertOrg(db: Db, values: { slug: string; name: string }): Promise<OrgRow> {
  try {
    const [row] = await db
      .insert(orgs)
      .values({ id: newId(), ...values })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw identityErrors.orgExists(`An organisation with slug "${values.slug}" already exists.`);
    throw err;
  }
}

export async function findOrg(db: Db, id: string): Promise<OrgRow | undefined> {
  const [row] = await db.select().from(orgs).where(eq(orgs.id, id));
  return row;
}

export async function findOrgBySlug(db: Db, slug: string): Promise<OrgRow | undefined> {
  const [row] = await db.select().from(orgs).where(eq(orgs.slug, slug));
  return row;
}

export async function insertUser(
  db: Db,
  values: { orgId: string; name: string; displayName?: string | null; email?: string | null; role: Role; isOperator?: boolean },
): Promise<UserRow> {
  try {
    const [row] = await db
      .insert(users)
      .values({ id: newId(), ...values })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err))
      throw identityErrors.userExists(`A user named "${values.name}" or with that e-mail already exists.`, {
        errors: [{ field: "name", reason: "already taken" }],
      });
    throw err;
  }
}

export async function findUser(db: Db, orgId: string, id: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.id, id)));
  return row;
}

/** A user of the organisation that has not been deleted. */
export async function findLiveUser(db: Db, orgId: string, id: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.id, id), isNull(users.deletedAt)));
  return row;
}

export async function findUserByEmail(db: Db, orgId: string, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.email, email), isNull(users.deletedAt)));
  return row;
}

/** The instance operator: the first organisation's first admin. */
export async function findOperator(db: Db): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.isOperator, true), isNull(users.deletedAt)))
    .orderBy(asc(users.createdAt))
    .limit(1);
  return row;
}

export async function listUsers(db: Db, orgId: string, includeDeleted = false): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(and(eq(users.orgId, orgId), includeDeleted ? undefined : isNull(users.deletedAt)))
    .orderBy(asc(users.name));
}

/**
 * Marks the user deleted and scrubs what named them: the unique name becomes `deleted-<id>`
 * (so the handle and e-mail can be given to someone else), display name and e-mail go.
 * Returns the row, or nothing when there is no such live user.
 */
export async function markUserDeleted(db: Db, orgId: string, id: string): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ deletedAt: sql`now()`, name: `deleted-${id}`, displayName: null, email: null })
    .where(and(eq(users.orgId, orgId), eq(users.id, id), isNull(users.deletedAt)))
    .returning();
  return row;
}

/** Revokes every token of the user still live (personal ones, after their sessions ended); returns the revoked ids. */
export async function revokeUserTokens(db: Db, orgId: string, userId: string): Promise<string[]> {
  const rows = await db
    .update(tokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(tokens.orgId, orgId), eq(tokens.userId, userId), isNull(tokens.revokedAt)))
    .returning({ id: tokens.id });
  return rows.map((r) => r.id);
}

/** Removes the user from every team; returns the teams they left. */
export async function removeAllMemberships(db: Db, orgId: string, userId: string): Promise<string[]> {
  const rows = await db
    .delete(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, userId)))
    .returning({ teamId: teamMembers.teamId });
  return rows.map((r) => r.teamId).sort();
}

export async function updateUserRole(db: Db, orgId: string, id: string, role: Role): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ role })
    .where(and(eq(users.orgId, orgId), eq(users.id, id)))
    .returning();
  return row;
}

export async function countAdmins(db: Db, orgId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.role, "admin"), isNull(users.deletedAt)));
  return row?.n ?? 0;
}

export type TeamWithMembers = typeof teams.$inferSelect & { members: string[] };

async function withMembers(db: Db, rows: (typeof teams.$inferSelect)[]): Promise<TeamWithMembers[]> {
  if (rows.length === 0) return [];
  const members = await db
    .select({ teamId: teamMembers.teamId, userId: teamMembers.userId })
    .from(teamMembers)
    .where(
      inArray(
        teamMembers.teamId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(teamMembers.createdAt));
  return rows.map((r) => ({ ...r, members: members.filter((m) => m.teamId === r.id).map((m) => m.userId) }));
}

export async function insertTeam(db: Db, values: { orgId: string; name: string; description?: string | null }): Promise<TeamWithMembers> {
  try {
    const [row] = await db
      .insert(teams)
      .values({ id: newId(), ...values })
      .returning();
    return { ...row!, members: [] };
  } catch (err) {
    if (isUniqueViolation(err))
      throw identityErrors.teamExists(`A team named "${values.name}" already exists.`, {
        errors: [{ field: "name", reason: "already taken" }],
      });
    throw err;
  }
}

export async function findTeam(db: Db, orgId: string, id: string): Promise<TeamWithMembers | undefined> {
  const rows = await db
    .select()
    .from(teams)
    .where(and(eq(teams.orgId, orgId), eq(teams.id, id)));
  return (await withMembers(db, rows))[0];
}

export async function listTeams(db: Db, orgId: string): Promise<TeamWithMembers[]> {
  return withMembers(db, await db.select().from(teams).where(eq(teams.orgId, orgId)).orderBy(asc(teams.name)));
}

/** Returns true when the membership is new. */
export async function addMember(db: Db, orgId: string, teamId: string, userId: string): Promise<boolean> {
  const rows = await db.insert(teamMembers).values({ orgId, teamId, userId }).onConflictDoNothing().returning();
  return rows.length > 0;
}

export async function removeMember(db: Db, orgId: string, teamId: string, userId: string): Promise<boolean> {
  const rows = await db
    .delete(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
    .returning();
  return rows.length > 0;
}

/**
 * A user with their organisation and team ids, in one round trip: "who am I" is asked often
 * (every CLI start, the dashboard's sign-in), and three queries cost three writes to the database.
 */
export async function findUserWithOrg(
  db: Db,
  orgId: string,
  userId: string,
): Promise<{ user: UserRow; org: OrgRow; teamIds: string[] } | undefined> {
  const [row] = await db
    .select({
      user: users,
      org: orgs,
      teamIds: sql<
        string[]
      >`coalesce((select array_agg(${teamMembers.teamId}::text order by ${teamMembers.teamId}) from ${teamMembers} where ${teamMembers.orgId} = ${users.orgId} and ${teamMembers.userId} = ${users.id}), '{}')`,
    })
    .from(users)
    .innerJoin(orgs, eq(orgs.id, users.orgId))
    .where(and(eq(users.orgId, orgId), eq(users.id, userId), isNull(users.deletedAt)));
  return row;
}

export async function teamIdsOfUser(db: Db, orgId: string, userId: string): Promise<string[]> {
  const rows = await db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, userId)));
  return rows.map((r) => r.teamId);
}

export async function insertToken(
  db: Db,
  values: { orgId: string; userId: string; kind: "personal" | "session"; sessionId?: string | null; name: string; ttlSeconds: number },
): Promise<TokenRow> {
  const { ttlSeconds, ...rest } = values;
  const [row] = await db
    .insert(tokens)
    .values({ id: newId(), ...rest, expiresAt: secondsFromNow(ttlSeconds) })
    .returning();
  return row!;
}

function buildTokenLookup(db: Db) {
  return db
    .select({
      id: tokens.id,
      orgId: tokens.orgId,
      userId: tokens.userId,
      kind: tokens.kind,
      sessionId: tokens.sessionId,
      revokedAt: tokens.revokedAt,
      // Time left on the database clock (negative once expired): a cached row is checked against
      // it on every request, without trusting this process's wall clock.
      expiresInMs: sql<number>`extract(epoch from ${tokens.expiresAt} - now()) * 1000`.mapWith(Number),
      role: users.role,
      isOperator: users.isOperator,
      // A deleted user's tokens are revoked with the deletion; this refuses any straggler too.
      userDeleted: sql<boolean>`${users.deletedAt} is not null`,
    })
    .from(tokens)
    .innerJoin(users, eq(users.id, tokens.userId))
    .where(sql`${tokens.id} = any(${sql.placeholder("ids")}::uuid[])`)
    .prepare("brigade_token_lookup");
}
// Built once per database: the hottest query of all, with one text for every batch size.
const tokenLookups = new WeakMap<Db, ReturnType<typeof buildTokenLookup>>();

export type AuthTokenRow = Awaited<ReturnType<ReturnType<typeof buildTokenLookup>["execute"]>>[number];

/**
 * Everything the auth hook needs about tokens, in one indexed lookup for a batch of them.
 * What can change in a row after it was minted: `revokedAt` (revokeToken, revokeSessionTokens,
 * revokeUserTokens), the user's `role` (updateUserRole) and `userDeleted` (markUserDeleted); the principal cache is invalidated by the events
 * those changes commit with (principal-cache.ts). Keep the two in step.
 */
export async function findTokensForAuth(db: Db, ids: string[]): Promise<(AuthTokenRow | undefined)[]> {
  let lookup = tokenLookups.get(db);
  if (!lookup) tokenLookups.set(db, (lookup = buildTokenLookup(db)));
  const rows = await lookup.execute({ ids });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id));
}

export async function findToken(db: Db, orgId: string, id: string): Promise<TokenRow | undefined> {
  const [row] = await db
    .select()
    .from(tokens)
    .where(and(eq(tokens.orgId, orgId), eq(tokens.id, id)));
  return row;
}

export async function listTokens(db: Db, orgId: string, userId: string, includeRevoked: boolean): Promise<TokenRow[]> {
  return db
    .select()
    .from(tokens)
    .where(and(eq(tokens.orgId, orgId), eq(tokens.userId, userId), includeRevoked ? undefined : isNull(tokens.revokedAt)))
    .orderBy(desc(tokens.createdAt));
}

export async function revokeToken(db: Db, orgId: string, id: string): Promise<TokenRow | undefined> {
  const [row] = await db
    .update(tokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(tokens.orgId, orgId), eq(tokens.id, id), isNull(tokens.revokedAt)))
    .returning();
  return row;
}

export async function revokeSessionTokens(db: Db, orgId: string, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await db
    .update(tokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(tokens.orgId, orgId), inArray(tokens.sessionId, sessionIds), isNull(tokens.revokedAt)));
}

function buildPersonNames(db: Db) {
  return (
    db
      .select({ id: users.id, name: users.name, displayName: users.displayName, email: users.email, deletedAt: users.deletedAt })
      .from(users)
      // One array parameter: one statement text for any number of people.
      .where(and(eq(users.orgId, sql.placeholder("orgId")), sql`${users.id} = any(${sql.placeholder("ids")}::uuid[])`))
      .prepare("brigade_person_names")
  );
}
// Built once per database: nearly every answer that names people (pages, refusals, alerts) reads them.
const personNameLookups = new WeakMap<Db, ReturnType<typeof buildPersonNames>>();

/**
 * How people are named in texts: display name, else e-mail, else user name; a deleted user by
 * the placeholder. Keyed by user id.
 */
export async function personNames(db: Db, orgId: string, ids: string[]): Promise<Map<string, { name: string; deleted: boolean }>> {
  if (ids.length === 0) return new Map();
  let lookup = personNameLookups.get(db);
  if (!lookup) personNameLookups.set(db, (lookup = buildPersonNames(db)));
  const rows = await lookup.execute({ orgId, ids: [...new Set(ids)] });
  return new Map(
    rows.map((r) => [
      r.id,
      r.deletedAt ? { name: DELETED_USER_NAME, deleted: true } : { name: r.displayName ?? r.email ?? r.name, deleted: false },
    ]),
  );
}
