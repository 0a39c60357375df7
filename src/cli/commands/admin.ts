/**
 * Onboarding from the command line: tokens, users, teams. Users and teams are named by their
 * handle or id (a handle is looked up in the organisation's list); the server decides who may
 * do what (admins add users and change roles, leads and admins manage teams).
 */
import { ok, type BrigadeClient, type Schemas } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { CliError, usageError } from "../errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLES = ["admin", "lead", "member"] as const;
type Role = (typeof ROLES)[number];

const who = (u: Schemas["User"]) => `${u.displayName ?? u.name}${u.email ? ` <${u.email}>` : ""}`;

async function users(client: BrigadeClient) {
  return (await ok(client.api.GET("/v1/users"))).items;
}

async function findUser(client: BrigadeClient, ref: string): Promise<Schemas["User"]> {
  const all = await users(client);
  const found = all.find((u) => u.id === ref || u.name === ref || (u.email !== null && u.email === ref));
  if (!found) throw new CliError(`no user ${JSON.stringify(ref)} in this organisation (brigade users list shows them)`);
  return found;
}

async function findTeam(client: BrigadeClient, ref: string): Promise<Schemas["Team"]> {
  const all = (await ok(client.api.GET("/v1/teams"))).items;
  const found = all.find((t) => t.id === ref || t.name === ref);
  if (!found) throw new CliError(`no team ${JSON.stringify(ref)} in this organisation (brigade teams list shows them)`);
  return found;
}

// ── tokens ───────────────────────────────────────────────────────────────────

export async function tokenCreate(ctx: Context, name: string, options: { ttl?: number; user?: string }) {
  const client = ctx.client("user");
  const userId = options.user ? (await findUser(client, options.user)).id : undefined;
  const minted = await ok(
    client.api.POST("/v1/tokens", {
      body: { name, ...(options.ttl ? { ttlSeconds: options.ttl } : {}), ...(userId ? { userId } : {}) },
    }),
  );
  ctx.out.result(minted, () =>
    [
      minted.token,
      "",
      `Token ${minted.id} (${minted.name}), valid until ${minted.expiresAt}. It is shown once: keep it in a password manager.`,
      `Use it with: brigade login --server ${ctx.settings().server ?? "URL"}   (the token is asked for, not typed on the command line)`,
    ].join("\n"),
  );
}

export async function tokenList(ctx: Context, options: { all?: boolean; user?: string }) {
  const client = ctx.client("user");
  const userId = options.user ? (await findUser(client, options.user)).id : undefined;
  const page = await ok(
    client.api.GET("/v1/tokens", {
      params: { query: { ...(userId ? { userId } : {}), ...(options.all ? { includeRevoked: "true" } : {}) } },
    }),
  );
  ctx.out.result(page, () =>
    page.items.length === 0
      ? "No tokens."
      : page.items
          .map(
            (k) =>
              `${k.id}  ${k.kind.padEnd(8)} ${k.name}  until ${k.expiresAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ""}${k.sessionId ? `  session ${k.sessionId}` : ""}`,
          )
          .join("\n"),
  );
}

export async function tokenRevoke(ctx: Context, id: string) {
  if (!UUID.test(id)) throw usageError(`token must be a token id (brigade token list shows them), got ${JSON.stringify(id)}`);
  const revoked = await ok(ctx.client("user").api.DELETE("/v1/tokens/{id}", { params: { path: { id } } }));
  ctx.out.result(revoked, `Revoked token ${revoked.id} (${revoked.name})`);
}

// ── users ────────────────────────────────────────────────────────────────────

const checkRole = (role: string): Role => {
  if (!(ROLES as readonly string[]).includes(role))
    throw usageError(`role must be one of ${ROLES.join(", ")}, got ${JSON.stringify(role)}`);
  return role as Role;
};

export async function usersAdd(
  ctx: Context,
  name: string,
  options: { role?: string; email?: string; displayName?: string; token?: boolean },
) {
  const client = ctx.client("user");
  const role = checkRole(options.role ?? "member");
  const user = await ok(
    client.api.POST("/v1/users", {
      body: {
        name,
        role,
        ...(options.email ? { email: options.email } : {}),
        ...(options.displayName ? { displayName: options.displayName } : {}),
      },
    }),
  );
  // A new teammate needs a token to log in: mint one unless told not to.
  const minted =
    options.token === false ? null : await ok(client.api.POST("/v1/tokens", { body: { name: `${name} (first login)`, userId: user.id } }));
  ctx.out.result({ user, token: minted }, () =>
    [
      `Added ${who(user)} as ${user.role} (${user.id})`,
      minted ? `Their token (shown once; hand it over privately): ${minted.token}` : "",
      minted ? `They log in with: brigade login --server ${ctx.settings().server ?? "URL"}` : "",
    ]
      .filter(Boolean)
      .join("\n"),
  );
}

export async function usersList(ctx: Context, options: { deleted?: boolean } = {}) {
  const client = ctx.client("user");
  const all = options.deleted
    ? (await ok(client.api.GET("/v1/users", { params: { query: { includeDeleted: "true" } } }))).items
    : await users(client);
  ctx.out.result({ items: all }, () =>
    all.map((u) => `${u.name.padEnd(20)} ${u.role.padEnd(7)} ${who(u)}  ${u.id}${u.deleted ? `  deleted ${u.deletedAt}` : ""}`).join("\n"),
  );
}

/** Destructive: refused without --yes, saying what it would do. */
export async function usersDelete(ctx: Context, ref: string, options: { yes?: boolean }) {
  const client = ctx.client("user");
  const user = await findUser(client, ref);
  if (!options.yes)
    throw usageError(
      `this deletes ${who(user)} (${user.id}): their sessions end (claims released), their tokens stop working and they leave every team; ` +
        'their messages and history stay, shown as "deleted user". Repeat with --yes to delete.',
    );
  const deleted = await ok(client.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } }));
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  ctx.out.result(
    deleted,
    `Deleted ${who(user)} (${user.id}): ${count(deleted.endedSessions.length, "session")} ended, ${count(deleted.revokedTokens, "token")} revoked, ${count(deleted.teamsLeft.length, "team")} left`,
  );
}

export async function usersRole(ctx: Context, ref: string, role: string) {
  const client = ctx.client("user");
  const r = checkRole(role);
  const user = await findUser(client, ref);
  const updated = await ok(client.api.PATCH("/v1/users/{id}", { params: { path: { id: user.id } }, body: { role: r } }));
  ctx.out.result(updated, `${who(updated)} is now ${updated.role}`);
}

// ── teams ────────────────────────────────────────────────────────────────────

export async function teamsCreate(ctx: Context, name: string, options: { description?: string }) {
  const team = await ok(
    ctx.client("user").api.POST("/v1/teams", { body: { name, ...(options.description ? { description: options.description } : {}) } }),
  );
  ctx.out.result(team, `Created team ${team.name} (${team.id})`);
}

export async function teamsList(ctx: Context) {
  const client = ctx.client("user");
  const [teams, all] = await Promise.all([ok(client.api.GET("/v1/teams")), users(client)]);
  const names = new Map(all.map((u) => [u.id, u.name]));
  ctx.out.result(teams, () =>
    teams.items.length === 0
      ? "No teams."
      : teams.items
          .map(
            (t) =>
              `${t.name}: ${t.members.map((m) => names.get(m) ?? m).join(", ") || "(no members)"}${t.description ? ` — ${t.description}` : ""}`,
          )
          .join("\n"),
  );
}

async function membership(ctx: Context, teamRef: string, userRefs: string[], add: boolean) {
  if (userRefs.length === 0) throw usageError("name at least one user");
  const client = ctx.client("user");
  const team = await findTeam(client, teamRef);
  let last = team;
  for (const ref of userRefs) {
    const user = await findUser(client, ref);
    const params = { params: { path: { id: team.id, userId: user.id } } };
    last = await ok(
      add ? client.api.PUT("/v1/teams/{id}/members/{userId}", params) : client.api.DELETE("/v1/teams/{id}/members/{userId}", params),
    );
  }
  ctx.out.result(last, `Team ${last.name} now has ${last.members.length} member${last.members.length === 1 ? "" : "s"}`);
}

export const teamsAdd = (ctx: Context, team: string, userRefs: string[]) => membership(ctx, team, userRefs, true);
export const teamsRemove = (ctx: Context, team: string, userRefs: string[]) => membership(ctx, team, userRefs, false);
