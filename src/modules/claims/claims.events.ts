import { z } from "zod";
import { defineEvent, defineEvents, nobody, partyRecipients, type Names } from "../../events/catalog.js";

const where = (repo: string | null | undefined) => (repo ? ` in ${repo}` : "");
const list = (patterns: string[]) => patterns.join(" ");

/** A claim.conflicted conflict entry, as far as the rules read it (the log keeps it whole). */
type ConflictEntry = {
  holder?: { sessionId?: unknown; userId?: unknown };
  yourPattern?: unknown;
  theirPattern?: unknown;
  witness?: unknown;
};
/** A claim id as the next step names it (the reader copies it into a command). */
const names0 = (claimId: string) => `claim ${claimId}`;
const text = (v: unknown) => (typeof v === "string" ? v : "");

/** The holders named in a claim.conflicted payload. */
function holdersOf(conflicts: Record<string, unknown>[]): { sessionId: string; userId: string }[] {
  return conflicts.flatMap((c) => {
    const holder = (c as ConflictEntry).holder;
    return typeof holder?.sessionId === "string" && typeof holder.userId === "string"
      ? [{ sessionId: holder.sessionId, userId: holder.userId }]
      : [];
  });
}

function overlapOf(conflicts: Record<string, unknown>[], names: Names): string {
  const first = conflicts[0] as ConflictEntry | undefined;
  if (!first) return "";
  const more = conflicts.length > 1 ? `, and ${conflicts.length - 1} more` : "";
  return `: ${text(first.yourPattern)} overlaps ${text(first.theirPattern)} of ${names.session(text(first.holder?.sessionId))} (e.g. ${text(first.witness)})${more}`;
}

/** Why a fence no longer vouches for a write. */
const lostBecause = {
  released: "which was released",
  expired: "which expired",
  broken: "which was broken",
  does_not_cover: "which does not cover them",
} as const;

/** Claims on areas of a repo, their handoffs, and edits reported against them. */
export const claimEvents = defineEvents({
  "claim.granted": defineEvent({
    description: "A session was granted a claim on an area of a repo.",
    payload: z.object({
      claimId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      patterns: z.array(z.string()),
      mode: z.string(),
      fence: z.number(),
      expiresAt: z.string(),
      reason: z.string().nullable(),
      /** Set when the claim was granted from the queue (its waiter is alerted); absent for a direct grant. */
      queueEntryId: z.string().nullish(),
    }),
    // A direct grant answers its requester; a grant from the queue is news to the waiter.
    recipients: ({ payload: p }) => (p.queueEntryId ? partyRecipients(p) : []),
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) =>
      `${names.session(p.sessionId)} ${p.queueEntryId ? "was granted from the queue" : "claimed"} ${list(p.patterns)} (${p.mode}, fence ${p.fence})${p.reason ? ` — ${p.reason}` : ""}`,
    next: ({ payload: p }) =>
      p.queueEntryId
        ? `your turn: ${names0(p.claimId)} is yours (fence ${p.fence}) — edit the area now, and release it when done (MCP release_claim, or \`brigade release ${p.claimId}\`)`
        : null,
  }),
  "claim.conflicted": defineEvent({
    description: "A claim overlapped others' claims: rejected, or granted with a warning. Alerts the requester and every holder.",
    payload: z.object({
      sessionId: z.string(),
      userId: z.string(),
      patterns: z.array(z.string()),
      mode: z.string(),
      outcome: z.enum(["rejected", "granted_with_warning"]),
      claimId: z.string().nullable(),
      conflicts: z.array(z.record(z.string(), z.unknown())),
    }),
    recipients: ({ payload: p }) => partyRecipients({ sessionId: p.sessionId, userId: p.userId }, ...holdersOf(p.conflicts)),
    visibility: "organisation",
    users: ["userId"],
    usersIn: { list: "conflicts", path: ["holder", "userId"] },
    team: null,
    standing: null,
    describe: (e, names) => {
      const p = e.payload;
      const outcome = p.outcome === "granted_with_warning" ? "granted with a warning" : "rejected";
      return `claim conflict${where(e.repo)}: ${names.session(p.sessionId)} claimed ${list(p.patterns)} (${outcome})${overlapOf(p.conflicts, names)}`;
    },
    next: null,
  }),
  "claim.renewed": defineEvent({
    description: "A claim's lease was extended.",
    payload: z.object({ claimId: z.string(), sessionId: z.string(), expiresAt: z.string() }),
    recipients: nobody,
    visibility: "organisation",
    users: [],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) => `${names.session(p.sessionId)} renewed ${names.claim(p.claimId)}`,
    next: null,
  }),
  "claim.released": defineEvent({
    description:
      "A claim was released: by its session, a handoff, or its session's end. A release with a note alerts the sessions refused on the claim and those waiting for it.",
    payload: z.object({
      claimId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      reason: z.string(),
      /** The holder's words on releasing (DELETE /v1/claims/{id} with a note). */
      note: z.string().nullish(),
    }),
    // Those a note is for (refused, waiting) are named by the release itself (`notify`).
    recipients: nobody,
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) =>
      `${names.session(p.sessionId)} released ${names.claim(p.claimId)} (${p.reason.replace(/_/g, " ")})${p.note ? `: "${p.note}"` : ""}`,
    next: null,
  }),
  "claim.queued": defineEvent({
    description:
      "A claim request joined the queue (onConflict queue): it waits for the claims that block it and is granted when they end. Alerts the holders of those claims, with the queue's length and who waits.",
    payload: z.object({
      entryId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      patterns: z.array(z.string()),
      mode: z.string(),
      position: z.number().describe("1 + the earlier waiters whose areas overlap this one: how many wait for this area."),
      waitingFor: z.array(z.object({ claimId: z.string(), holder: z.object({ sessionId: z.string(), userId: z.string() }) })),
      expiresAt: z.string().describe("The wait limit."),
    }),
    recipients: ({ payload: p }) => partyRecipients(...p.waitingFor.map((w) => w.holder)),
    visibility: "organisation",
    users: ["userId"],
    usersIn: { list: "waitingFor", path: ["holder", "userId"] },
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) => {
      const claims = [...new Set(p.waitingFor.map((w) => w.claimId))].map((id) => names.claim(id)).join(", ");
      return `${names.session(p.sessionId)} queued for ${list(p.patterns)}${where(repo)}, waiting for ${claims || "earlier waiters"} (${p.position} waiting for this area)`;
    },
    next: ({ payload: p }) =>
      p.waitingFor.length > 0
        ? "someone waits for your claim: finish and release it (MCP release_claim with a note, or `brigade release <claim> --note …`), or hand it over"
        : null,
  }),
  "claim.queue_waiting": defineEvent({
    description:
      "A claim just granted from the queue blocks other waiters: alerts its new holder with how many wait and who, so it can finish or hand over.",
    payload: z.object({
      claimId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      waiters: z.array(z.object({ entryId: z.string(), waiter: z.object({ sessionId: z.string(), userId: z.string() }) })),
    }),
    recipients: ({ payload: p }) => partyRecipients(p),
    visibility: "organisation",
    users: ["userId"],
    usersIn: { list: "waiters", path: ["waiter", "userId"] },
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) =>
      `${p.waiters.length} waiting${where(repo)} for ${names.claim(p.claimId)} of ${names.session(p.sessionId)}: ${p.waiters.map((w) => names.session(w.waiter.sessionId)).join(", ")}`,
    next: () => "finish and release the claim (MCP release_claim with a note, or `brigade release <claim> --note …`), or hand it over",
  }),
  "claim.queue_left": defineEvent({
    description:
      "A queue entry ended without a claim: its session left the queue, ended or expired, or its wait limit passed (then its session is alerted).",
    payload: z.object({
      entryId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      patterns: z.array(z.string()),
      reason: z.enum(["left", "wait_expired", "session_ended", "session_expired"]),
    }),
    recipients: ({ payload: p }) => (p.reason === "wait_expired" ? partyRecipients(p) : []),
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) =>
      `${names.session(p.sessionId)} left the queue for ${list(p.patterns)}${where(repo)} (${p.reason.replace(/_/g, " ")})`,
    next: ({ payload: p }) =>
      p.reason === "wait_expired"
        ? "the wait limit passed without a grant: queue again with a longer maxWaitSeconds, ask for a handoff, or work elsewhere"
        : null,
  }),
  "claim.expired": defineEvent({
    description: "A claim's lease ran out. Alerts its holder.",
    payload: z.object({ claimId: z.string(), sessionId: z.string(), userId: z.string() }),
    recipients: ({ payload: p }) => partyRecipients(p),
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: (e, names) => `${names.claim(e.payload.claimId)} of ${names.session(e.payload.sessionId)} expired${where(e.repo)}`,
    next: () => "claim again if you still need it (MCP claim_paths, or `brigade claim <pattern>`)",
  }),
  "claim.broken": defineEvent({
    description: "A lead or admin broke a claim, with a reason. Alerts its holder.",
    payload: z.object({ claimId: z.string(), sessionId: z.string(), userId: z.string(), reason: z.string(), brokenBy: z.string() }),
    recipients: ({ payload: p }) => partyRecipients(p),
    visibility: "organisation",
    users: ["userId", "brokenBy"],
    usersIn: null,
    team: null,
    standing: null,
    describe: (e, names) =>
      `${names.user(e.payload.brokenBy)} broke ${names.user(e.payload.userId)}'s ${names.claim(e.payload.claimId)}${where(e.repo)}: ${e.payload.reason}`,
    next: null,
  }),
  "claim.policy_changed": defineEvent({
    description: "An admin changed the organisation's claim policy (whether the same developer's sessions block each other).",
    payload: z.object({ sameDeveloper: z.string(), changedBy: z.string() }),
    recipients: nobody,
    visibility: "organisation",
    users: ["changedBy"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) =>
      `${names.user(p.changedBy)} set the same-developer claim policy to ${p.sameDeveloper === "warn" ? "warn (one developer's sessions do not block each other)" : "block"}`,
    next: null,
  }),
  "handoff.requested": defineEvent({
    description: "A session asked a claim's holder to hand it over. Alerts the holder.",
    payload: z.object({
      handoffId: z.string(),
      claimId: z.string(),
      holderSessionId: z.string(),
      holderUserId: z.string(),
      requesterSessionId: z.string(),
      requesterUserId: z.string(),
      reason: z.string(),
    }),
    recipients: ({ payload: p }) => partyRecipients({ sessionId: p.holderSessionId, userId: p.holderUserId }),
    visibility: "organisation",
    users: ["holderUserId", "requesterUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: (e, names) =>
      `handoff requested${where(e.repo)}: ${names.session(e.payload.requesterSessionId)} asks ${names.user(e.payload.holderUserId)} for ${names.claim(e.payload.claimId)} ("${e.payload.reason}")`,
    next: (e) =>
      `answer it with the MCP tool answer_handoff (handoffId ${e.payload.handoffId}), or \`brigade handoff answer ${e.payload.handoffId} accept|decline|defer\``,
  }),
  "handoff.answered": defineEvent({
    description:
      "A claim's holder answered a handoff request: accept (the claim is transferred to the requester's session in one transaction, or released when that session has ended), decline or defer with an ETA. Alerts the requester.",
    payload: z.object({
      handoffId: z.string(),
      claimId: z.string(),
      answer: z.string(),
      note: z.string().nullable(),
      eta: z.string().nullable(),
      requesterSessionId: z.string(),
      requesterUserId: z.string(),
      /** The requester's claim when the handoff transferred it (absent in events before transfers existed). */
      grantedClaimId: z.string().nullish(),
      fence: z.number().nullish(),
    }),
    recipients: ({ payload: p }) => partyRecipients({ sessionId: p.requesterSessionId, userId: p.requesterUserId }),
    visibility: "organisation",
    users: ["requesterUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) =>
      `handoff ${p.answer}${where(repo)}: ${names.claim(p.claimId)}${p.grantedClaimId ? ` is now yours as ${names.claim(p.grantedClaimId)} (fence ${p.fence})` : ""}${p.eta ? `, expected by ${p.eta}` : ""}${p.note ? ` ("${p.note}")` : ""}`,
    next: ({ payload: p }) =>
      p.answer !== "accepted"
        ? null
        : p.grantedClaimId
          ? "the area is yours: edit it now, and release the claim when done (MCP release_claim, or `brigade release`)"
          : "the claim is released: claim it now (MCP claim_paths, or `brigade claim <pattern>`)",
  }),
  "claim.fence_rejected": defineEvent({
    description:
      "A write was checked with the fence of a claim that no longer covers it (released, expired, broken, or not covering the paths): the writer acted on a lease it had lost. Alerts the claim's holder.",
    payload: z.object({
      claimId: z.string(),
      sessionId: z.string(),
      userId: z.string(),
      fence: z.number(),
      reason: z.enum(["released", "expired", "broken", "does_not_cover"]),
      paths: z.array(z.string()).describe("The paths checked (at most 20); pathsTotal counts them all."),
      pathsTotal: z.number(),
    }),
    recipients: ({ payload: p }) => partyRecipients(p),
    visibility: "organisation",
    users: ["userId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) =>
      `stale fence${where(repo)}: ${p.pathsTotal} path(s) checked with fence ${p.fence} of ${names.claim(p.claimId)} of ${names.session(p.sessionId)}, ${lostBecause[p.reason]}`,
    next: () => "stop writing there and claim the area again before going on (MCP claim_paths, or `brigade claim <pattern>`)",
  }),
  "touch.conflict": defineEvent({
    description:
      "A session edited a file inside another session's exclusive claim, or a file another live session edits. Alerts both sides.",
    payload: z.object({
      sessionId: z.string(),
      userId: z.string(),
      path: z.string(),
      kind: z.enum(["claim", "touch"]),
      otherSessionId: z.string(),
      otherUserId: z.string(),
      claimId: z.string().nullable(),
    }),
    recipients: ({ payload: p }) =>
      partyRecipients({ sessionId: p.sessionId, userId: p.userId }, { sessionId: p.otherSessionId, userId: p.otherUserId }),
    visibility: "organisation",
    users: ["userId", "otherUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p, repo }, names) =>
      p.kind === "claim"
        ? `edit conflict${where(repo)}: ${names.session(p.sessionId)} edited ${p.path} inside ${names.claim(p.claimId)} of ${names.session(p.otherSessionId)}`
        : `edit conflict${where(repo)}: ${names.session(p.sessionId)} and ${names.session(p.otherSessionId)} both edit ${p.path}`,
    next: ({ payload: p }) =>
      p.kind === "claim" && p.claimId
        ? `whoever edited: stop there and ask for a handoff (MCP request_handoff with claimId ${p.claimId}, or \`brigade handoff request ${p.claimId} --reason …\`)`
        : "talk to the other side before either of you edits the file again",
  }),
});
