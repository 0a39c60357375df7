import { z } from "zod";
import { defineEvent, defineEvents, nobody, partyRecipients } from "../../events/catalog.js";

const closed = z.object({ userId: z.string(), agentId: z.string(), repo: z.string() });

/** A running agent's session: started, ended by its agent, or expired without heartbeats. */
export const sessionEvents = defineEvents({
  "session.started": defineEvent({
    description: "An agent's session started; it holds claims and gets alerts until it ends or expires.",
    payload: z.object({
      userId: z.string(),
      agentId: z.string(),
      agent: z.string(),
      repo: z.string(),
      branch: z.string().nullable(),
      task: z.string().nullable(),
    }),
    recipients: nobody,
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: "session-opened",
    describe: ({ payload: p }, names) =>
      `${names.user(p.userId)} started ${p.agent} on ${p.repo}${p.branch ? ` (${p.branch})` : ""}${p.task ? `: ${p.task}` : ""}`,
    next: null,
  }),
  "session.ended": defineEvent({
    description: "A session ended; its claims are released and its tokens revoked in the same transaction.",
    payload: closed,
    recipients: nobody,
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: "session-closed",
    describe: (e, names) => `${names.session(e.subject.id)} ended its session on ${e.payload.repo}`,
    next: null,
  }),
  "session.expired": defineEvent({
    description: "A session stopped heartbeating and expired; its claims are released and its tokens revoked.",
    payload: closed,
    recipients: (e) => partyRecipients({ sessionId: e.subject.id, userId: e.payload.userId }),
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: "session-closed",
    describe: (e, names) =>
      `${names.session(e.subject.id)} stopped heartbeating; its session on ${e.payload.repo} expired and its claims are released`,
    next: null,
  }),
});
