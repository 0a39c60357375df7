import { z } from "zod";

export const roles = ["admin", "lead", "member"] as const;
export type Role = (typeof roles)[number];

/** Who is calling, resolved from the bearer token by the auth hook. */
export interface Principal {
  orgId: string;
  userId: string;
  role: Role;
  isOperator: boolean;
  via: "personal" | "session" | "bootstrap" | "oidc";
  tokenId: string | null;
  /** Set for session tokens: the one session this caller may act for. */
  sessionId: string | null;
}

const handle = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
const timestamp = z.iso.datetime({ offset: true });
const id = z.uuid();

export const idParams = z.object({ id });

/** How a deleted user is named wherever a person is shown (senders, holders, directories). */
export const DELETED_USER_NAME = "deleted user";

export const orgSchema = z.object({ id, slug: z.string(), name: z.string(), createdAt: timestamp }).meta({ id: "Organisation" });
export const userSchema = z
  .object({
    id,
    orgId: id,
    name: z.string(),
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    role: z.enum(roles),
    isOperator: z.boolean(),
    createdAt: timestamp,
    deleted: z.boolean().describe(`A deleted user: shown as a placeholder named "${DELETED_USER_NAME}", without display name or e-mail.`),
    deletedAt: timestamp.nullable(),
  })
  .meta({ id: "User" });
export const teamSchema = z
  .object({ id, orgId: id, name: z.string(), description: z.string().nullable(), createdAt: timestamp, members: z.array(id) })
  .meta({ id: "Team" });
export const tokenInfoSchema = z
  .object({
    id,
    userId: id,
    kind: z.enum(["personal", "session"]),
    sessionId: id.nullable(),
    name: z.string(),
    createdAt: timestamp,
    expiresAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: "TokenInfo" });
export const mintedTokenSchema = tokenInfoSchema
  .extend({ token: z.string().describe("The bearer token. Shown once; Brigade keeps only its id.") })
  .meta({ id: "MintedToken" });

export const createOrgBody = z
  .object({
    slug: handle,
    name: z.string().min(1).max(200),
    admin: z.object({ name: handle, displayName: z.string().max(200).optional(), email: z.email().optional() }).strict(),
  })
  .strict();
export type CreateOrgInput = z.infer<typeof createOrgBody>;
export const createdOrgSchema = z
  .object({ org: orgSchema, admin: userSchema, token: mintedTokenSchema })
  .meta({ id: "CreatedOrganisation" });

export const createUserBody = z
  .object({
    name: handle,
    displayName: z.string().min(1).max(200).optional(),
    email: z.email().max(320).optional(),
    role: z.enum(roles).default("member"),
  })
  .strict();
/** The parsed body: role is always set (its default applied). */
export type CreateUserInput = z.infer<typeof createUserBody>;
export const updateUserBody = z.object({ role: z.enum(roles) }).strict();
export const listUsersQuery = z
  .object({
    includeDeleted: z
      .stringbool()
      .default(false)
      .describe(`Also list deleted users, as placeholders named "${DELETED_USER_NAME}" (so ids in history resolve).`),
  })
  .strict();

export const createTeamBody = z.object({ name: handle, description: z.string().max(2000).optional() }).strict();
export type CreateTeamInput = z.infer<typeof createTeamBody>;
export const membershipParams = z.object({ id, userId: id });

export const createTokenBody = z
  .object({
    name: z.string().min(1).max(200),
    ttlSeconds: z.number().int().positive().optional(),
    userId: id.optional().describe("Mint for another user of the organisation (admins only)."),
  })
  .strict();
export type CreateTokenInput = z.infer<typeof createTokenBody>;
export const listTokensQuery = z.object({ userId: id.optional(), includeRevoked: z.stringbool().default(false) }).strict();
export type ListTokensInput = z.infer<typeof listTokensQuery>;

export const meSchema = z
  .object({
    user: userSchema,
    org: orgSchema,
    via: z.enum(["personal", "session", "bootstrap", "oidc"]),
    tokenId: id.nullable(),
    sessionId: id.nullable(),
    teams: z.array(id),
  })
  .meta({ id: "Me" });

export const deletedUserSchema = z
  .object({
    user: userSchema.describe("The user as shown from now on: the placeholder."),
    endedSessions: z.array(id).describe("The live sessions that ended (their claims released)."),
    revokedTokens: z.number().int().describe("How many live personal tokens were revoked (session tokens end with their sessions)."),
    teamsLeft: z.array(id),
  })
  .meta({ id: "DeletedUser" });

export const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).meta({ id: "JWKS" });
export const rotatedKeySchema = z.object({ kid: z.string(), retired: z.array(z.string()) }).meta({ id: "RotatedKey" });

type Row<T> = T & { createdAt: Date };
export const presentOrg = (o: Row<{ id: string; slug: string; name: string }>) => ({ ...o, createdAt: o.createdAt.toISOString() });
export const presentUser = (
  u: Row<{
    id: string;
    orgId: string;
    name: string;
    displayName: string | null;
    email: string | null;
    role: Role;
    isOperator: boolean;
    deletedAt: Date | null;
  }>,
) => {
  const deleted = u.deletedAt !== null;
  return {
    id: u.id,
    orgId: u.orgId,
    // The row is scrubbed at deletion; the placeholder keeps every reader's view the same.
    name: deleted ? DELETED_USER_NAME : u.name,
    displayName: deleted ? null : u.displayName,
    email: deleted ? null : u.email,
    role: u.role,
    isOperator: deleted ? false : u.isOperator,
    createdAt: u.createdAt.toISOString(),
    deleted,
    deletedAt: u.deletedAt?.toISOString() ?? null,
  };
};
export const presentToken = (
  t: Row<{
    id: string;
    userId: string;
    kind: "personal" | "session";
    sessionId: string | null;
    name: string;
    expiresAt: Date;
    revokedAt: Date | null;
  }>,
) => ({
  id: t.id,
  userId: t.userId,
  kind: t.kind,
  sessionId: t.sessionId,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(),
  revokedAt: t.revokedAt?.toISOString() ?? null,
});
