import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { problemResponses } from "../../http/problem.js";
import {
  createOrgBody,
  createTeamBody,
  createTokenBody,
  createUserBody,
  createdOrgSchema,
  deletedUserSchema,
  idParams,
  jwksSchema,
  listTokensQuery,
  listUsersQuery,
  meSchema,
  membershipParams,
  mintedTokenSchema,
  presentOrg,
  presentToken,
  presentUser,
  rotatedKeySchema,
  teamSchema,
  tokenInfoSchema,
  updateUserBody,
  userSchema,
} from "./identity.schemas.js";
import * as usecases from "./identity.usecases.js";
import type { IdentityDeps } from "./identity.usecases.js";
import type { TeamWithMembers } from "./identity.repository.js";

const presentTeam = (t: TeamWithMembers) => ({
  id: t.id,
  orgId: t.orgId,
  name: t.name,
  description: t.description,
  createdAt: t.createdAt.toISOString(),
  members: t.members,
});
const presentMinted = (m: { row: Parameters<typeof presentToken>[0]; token: string }) => ({ ...presentToken(m.row), token: m.token });

const authErrors = [400, 401, 403];

export const identityRoutes: FastifyPluginAsyncZod<{ deps: IdentityDeps }> = async (app, { deps }) => {
  app.get(
    "/.well-known/jwks.json",
    {
      config: { public: true },
      schema: { tags: ["auth"], summary: "Public keys that verify Brigade's tokens", security: [], response: { 200: jwksSchema } },
    },
    async () => deps.keys.jwks(),
  );

  app.post(
    "/v1/admin/signing-keys/rotate",
    {
      schema: {
        tags: ["auth"],
        summary: "Rotate the signing key (operator)",
        response: { 200: rotatedKeySchema, ...problemResponses(401, 403, 409) },
      },
    },
    async (request) => usecases.rotateSigningKey(deps, request.principal),
  );

  app.get(
    "/v1/me",
    { schema: { tags: ["identity"], summary: "Who the token belongs to", response: { 200: meSchema, ...problemResponses(401) } } },
    async (request) => {
      const { user, org, teams } = await usecases.whoami(deps, request.principal);
      const { via, tokenId, sessionId } = request.principal;
      return { user: presentUser(user), org: presentOrg(org), via, tokenId, sessionId, teams };
    },
  );

  app.post(
    "/v1/orgs",
    {
      schema: {
        tags: ["identity"],
        summary: "Create an organisation and its first admin (operator)",
        body: createOrgBody,
        response: { 201: createdOrgSchema, ...problemResponses(...authErrors, 409) },
      },
    },
    async (request, reply) => {
      const { org, admin, token } = await usecases.createOrg(deps, request.principal, request.body);
      return reply.code(201).send({ org: presentOrg(org), admin: presentUser(admin), token: presentMinted(token) });
    },
  );

  app.post(
    "/v1/users",
    {
      schema: {
        tags: ["identity"],
        summary: "Create a user (admin)",
        body: createUserBody,
        response: { 201: userSchema, ...problemResponses(...authErrors, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(presentUser(await usecases.createUser(deps, request.principal, request.body))),
  );

  app.get(
    "/v1/users",
    {
      schema: {
        tags: ["identity"],
        summary: "List the organisation's users",
        querystring: listUsersQuery,
        response: { 200: z.object({ items: z.array(userSchema) }), ...problemResponses(400, 401) },
      },
    },
    async (request) => ({ items: (await usecases.listUsers(deps, request.principal, request.query)).map(presentUser) }),
  );

  app.get(
    "/v1/users/:id",
    {
      schema: {
        tags: ["identity"],
        summary: "Get a user (a deleted one as its placeholder)",
        params: idParams,
        response: { 200: userSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentUser(await usecases.getUser(deps, request.principal, request.params.id)),
  );

  app.patch(
    "/v1/users/:id",
    {
      schema: {
        tags: ["identity"],
        summary: "Change a user's role (admin)",
        params: idParams,
        body: updateUserBody,
        response: { 200: userSchema, ...problemResponses(...authErrors, 404, 409) },
      },
    },
    async (request) => presentUser(await usecases.changeRole(deps, request.principal, request.params.id, request.body.role)),
  );

  app.delete(
    "/v1/users/:id",
    {
      schema: {
        tags: ["identity"],
        summary: "Delete a user (admin)",
        description:
          "Ends the user's live sessions (claims released, queue waiters promoted), revokes their tokens, removes them from every team and marks them deleted, in one transaction. Their messages, claims, contract versions and events stay, naming them by the placeholder `deleted user`. An admin cannot delete themself; the instance operator cannot be deleted. Deleting a user already deleted answers 404 (`users.not_found`).",
        params: idParams,
        response: { 200: deletedUserSchema, ...problemResponses(...authErrors, 404, 409) },
      },
    },
    async (request) => {
      const deleted = await usecases.deleteUser(deps, request.principal, request.params.id);
      return {
        user: presentUser(deleted.user),
        endedSessions: deleted.endedSessions,
        revokedTokens: deleted.revokedTokens,
        teamsLeft: deleted.teamIds,
      };
    },
  );

  app.post(
    "/v1/teams",
    {
      schema: {
        tags: ["identity"],
        summary: "Create a team (admin or lead)",
        body: createTeamBody,
        response: { 201: teamSchema, ...problemResponses(...authErrors, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(presentTeam(await usecases.createTeam(deps, request.principal, request.body))),
  );

  app.get(
    "/v1/teams",
    {
      schema: {
        tags: ["identity"],
        summary: "List teams with their members",
        response: { 200: z.object({ items: z.array(teamSchema) }), ...problemResponses(401) },
      },
    },
    async (request) => ({ items: (await usecases.listTeams(deps, request.principal)).map(presentTeam) }),
  );

  app.get(
    "/v1/teams/:id",
    {
      schema: {
        tags: ["identity"],
        summary: "Get a team",
        params: idParams,
        response: { 200: teamSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentTeam(await usecases.getTeam(deps, request.principal, request.params.id)),
  );

  app.put(
    "/v1/teams/:id/members/:userId",
    {
      schema: {
        tags: ["identity"],
        summary: "Add a user to a team (admin or lead)",
        params: membershipParams,
        response: { 200: teamSchema, ...problemResponses(...authErrors, 404) },
      },
    },
    async (request) =>
      presentTeam(
        await usecases.setMembership(deps, request.principal, { teamId: request.params.id, userId: request.params.userId, member: true }),
      ),
  );

  app.delete(
    "/v1/teams/:id/members/:userId",
    {
      schema: {
        tags: ["identity"],
        summary: "Remove a user from a team (admin or lead)",
        params: membershipParams,
        response: { 200: teamSchema, ...problemResponses(...authErrors, 404) },
      },
    },
    async (request) =>
      presentTeam(
        await usecases.setMembership(deps, request.principal, { teamId: request.params.id, userId: request.params.userId, member: false }),
      ),
  );

  app.post(
    "/v1/tokens",
    {
      schema: {
        tags: ["auth"],
        summary: "Mint a personal token",
        body: createTokenBody,
        response: { 201: mintedTokenSchema, ...problemResponses(...authErrors, 404, 422) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentMinted(await usecases.createPersonalToken(deps, request.principal, request.body))),
  );

  app.get(
    "/v1/tokens",
    {
      schema: {
        tags: ["auth"],
        summary: "List tokens (yours, or a user's for admins)",
        querystring: listTokensQuery,
        response: { 200: z.object({ items: z.array(tokenInfoSchema) }), ...problemResponses(...authErrors) },
      },
    },
    async (request) => ({ items: (await usecases.listTokens(deps, request.principal, request.query)).map(presentToken) }),
  );

  app.delete(
    "/v1/tokens/:id",
    {
      schema: {
        tags: ["auth"],
        summary: "Revoke a token",
        params: idParams,
        response: { 200: tokenInfoSchema, ...problemResponses(...authErrors, 404) },
      },
    },
    async (request) => presentToken(await usecases.revokeToken(deps, request.principal, request.params.id)),
  );
};
