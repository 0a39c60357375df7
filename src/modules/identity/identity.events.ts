import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** Organisations, users, teams, tokens and keys. */
export const identityEvents = defineEvents({
  "org.created": defineEvent({
    description: "An organisation was created (by the operator, or at first start).",
    payload: z.object({ slug: z.string(), name: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e) => `Organisation ${e.payload.name} created`,
  }),
  "user.created": defineEvent({
    description: "A user was added to the organisation.",
    payload: z.object({ name: z.string(), role: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} added user ${e.payload.name} (${e.payload.role})`,
  }),
  "user.role_changed": defineEvent({
    description: "A user's role changed; every token of theirs carries the new role at once.",
    payload: z.object({ from: z.string(), to: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    standing: "role-changed",
    describe: (e, names) => `${names.user(e.subject.id)} is now ${e.payload.to} (was ${e.payload.from})`,
  }),
  "user.deleted": defineEvent({
    description:
      "A user was deleted: their tokens revoked, live sessions ended (claims released), team memberships removed. Their messages, claims and events stay, shown with a placeholder name.",
    payload: z.object({
      revokedTokens: z.number().int().describe("How many live personal tokens were revoked (session tokens end with their sessions)."),
      endedSessions: z.array(z.string()).describe("The live sessions that ended with the deletion."),
      teamIds: z.array(z.string()).describe("The teams the user left."),
    }),
    ...unaddressed,
    visibility: "organisation",
    standing: "user-deleted",
    describe: (e, names) => `${actorName(e.actor, names)} deleted user ${names.user(e.subject.id)}`,
  }),
  "team.created": defineEvent({
    description: "A team was created.",
    payload: z.object({ name: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    describe: (e, names) => `${actorName(e.actor, names)} created team ${e.payload.name}`,
  }),
  "team.member_added": defineEvent({
    description: "A user joined a team.",
    payload: z.object({ teamId: z.string(), userId: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    users: ["userId"],
    team: "teamId",
    standing: "member-joined",
    describe: (e, names) => `${names.user(e.payload.userId)} joined ${names.team(e.payload.teamId)}`,
  }),
  "team.member_removed": defineEvent({
    description: "A user left a team.",
    payload: z.object({ teamId: z.string(), userId: z.string() }),
    ...unaddressed,
    visibility: "organisation",
    users: ["userId"],
    team: "teamId",
    standing: "member-left",
    describe: (e, names) => `${names.user(e.payload.userId)} left ${names.team(e.payload.teamId)}`,
  }),
  "token.created": defineEvent({
    description: "A personal or session token was minted. Members see only their own.",
    payload: z.object({ kind: z.string(), name: z.string(), userId: z.string() }),
    ...unaddressed,
    visibility: "owner-and-leads",
    users: ["userId"],
    describe: (e, names) => `${actorName(e.actor, names)} minted a ${e.payload.kind} token`,
  }),
  "token.revoked": defineEvent({
    description: "A token was revoked; it stops working on every replica. Members see only their own.",
    payload: z.object({ kind: z.string(), userId: z.string() }),
    ...unaddressed,
    visibility: "owner-and-leads",
    users: ["userId"],
    standing: "token-revoked",
    describe: (e, names) => `${actorName(e.actor, names)} revoked a ${e.payload.kind} token`,
  }),
  "signing_key.rotated": defineEvent({
    description: "The signing key was rotated; earlier keys keep verifying the tokens they signed. Leads and admins only.",
    payload: z.object({ kid: z.string(), retired: z.array(z.string()) }),
    ...unaddressed,
    visibility: "leads",
    describe: (e, names) => `${actorName(e.actor, names)} rotated the signing key`,
  }),
});
