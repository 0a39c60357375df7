import t from "tap";
import type { Definitions, EventCatalog, NewEvent as NewEventOf } from "../../src/events/catalog.js";
import { systemActor } from "../../src/events/envelope.js";
import { claimEvents } from "../../src/modules/claims/claims.events.js";
import { conflictEvents } from "../../src/modules/conflicts/conflicts.events.js";
import { contractEvents } from "../../src/modules/contracts/contracts.events.js";
import { identityEvents } from "../../src/modules/identity/identity.events.js";
import { sessionEvents } from "../../src/modules/sessions/sessions.events.js";

type NewEvent =
  | NewEventOf<typeof claimEvents.definitions>
  | NewEventOf<typeof sessionEvents.definitions>
  | NewEventOf<typeof conflictEvents.definitions>
  | NewEventOf<typeof contractEvents.definitions>
  | NewEventOf<typeof identityEvents.definitions>;
const catalogs: EventCatalog<Definitions>[] = [claimEvents, sessionEvents, conflictEvents, contractEvents, identityEvents] as never;
/** The recipients the owning catalog resolves for an event: its type's rule plus `notify`, each once. */
const recipientsOf = (e: NewEvent) => catalogs.find((c) => e.type in c.definitions)!.event(e as never).recipients;

const S1 = "00000000-0000-7000-8000-000000000001";
const U1 = "00000000-0000-7000-8000-000000000002";
const S2 = "00000000-0000-7000-8000-000000000003";
const U2 = "00000000-0000-7000-8000-000000000004";
const S3 = "00000000-0000-7000-8000-000000000005";
const T1 = "00000000-0000-7000-8000-000000000006";
const user = { type: "user" as const, id: U1, userId: U1 };
const names = (e: NewEvent) => recipientsOf(e).map((r) => `${r.type}:${r.id}`);
const holder = (sessionId: string, userId: string) => ({
  claimId: "c",
  holder: { sessionId, userId, agent: { id: "a", name: "n" } },
  witness: "w",
});

t.test("when a claim conflicts with two claims of one holder and one of another, then each session and user is told once", async (t) => {
  const e: NewEvent = {
    type: "claim.conflicted",
    actor: user,
    subject: { type: "session", id: S1 },
    payload: {
      sessionId: S1,
      userId: U1,
      patterns: ["a"],
      mode: "exclusive",
      outcome: "rejected",
      claimId: null,
      conflicts: [holder(S2, U2), holder(S2, U2), holder(S3, U2)],
    },
  };
  t.same(names(e), [`session:${S1}`, `user:${U1}`, `session:${S2}`, `user:${U2}`, `session:${S3}`]);
});

t.test("when a touch conflicts, then both sessions and both users are told", async (t) => {
  const e: NewEvent = {
    type: "touch.conflict",
    actor: user,
    subject: { type: "session", id: S1 },
    payload: { sessionId: S1, userId: U1, path: "a.ts", kind: "touch", otherSessionId: S2, otherUserId: U2, claimId: null },
  };
  t.same(names(e), [`session:${S1}`, `user:${U1}`, `session:${S2}`, `user:${U2}`]);
});

t.test("when a claim is broken or expires, then its holder is told; a handoff goes to the other side", async (t) => {
  const claim = { claimId: "c", sessionId: S2, userId: U2 };
  t.same(
    names({ type: "claim.broken", actor: user, subject: { type: "claim", id: "c" }, payload: { ...claim, reason: "r", brokenBy: U1 } }),
    [`session:${S2}`, `user:${U2}`],
  );
  t.same(names({ type: "claim.expired", actor: systemActor, subject: { type: "claim", id: "c" }, payload: claim }), [
    `session:${S2}`,
    `user:${U2}`,
  ]);
  const handoff = { handoffId: "h", claimId: "c", requesterSessionId: S1, requesterUserId: U1 };
  t.same(
    names({
      type: "handoff.requested",
      actor: user,
      subject: { type: "handoff", id: "h" },
      payload: { ...handoff, holderSessionId: S2, holderUserId: U2, reason: "r" },
    }),
    [`session:${S2}`, `user:${U2}`],
  );
  t.same(
    names({
      type: "handoff.answered",
      actor: user,
      subject: { type: "handoff", id: "h" },
      payload: { ...handoff, answer: "accepted", note: null, eta: null },
    }),
    [`session:${S1}`, `user:${U1}`],
  );
  t.same(
    names({
      type: "session.expired",
      actor: systemActor,
      subject: { type: "session", id: S1 },
      payload: { userId: U1, agentId: "a", repo: "r" },
    }),
    [`session:${S1}`, `user:${U1}`],
  );
});

t.test("when a conflict changes, then its parties are told except the one who acted; its opening alerts nobody", async (t) => {
  const parties = { conflictId: "x", kind: "claim" as const, sessionId: S1, userId: U1, otherSessionId: S2, otherUserId: U2 };
  const acked: NewEvent = {
    type: "conflict.acknowledged",
    actor: { type: "session", id: S2, userId: U2 },
    subject: { type: "conflict", id: "x" },
    payload: parties,
  };
  t.same(names(acked), [`session:${S1}`, `user:${U1}`, `user:${U2}`]);
  const resolved: NewEvent = {
    type: "conflict.resolved",
    actor: systemActor,
    subject: { type: "conflict", id: "x" },
    payload: { ...parties, resolution: "claim_expired" },
  };
  t.same(names(resolved), [`session:${S1}`, `user:${U1}`, `session:${S2}`, `user:${U2}`]);
  const opened: NewEvent = {
    type: "conflict.opened",
    actor: user,
    subject: { type: "conflict", id: "x" },
    payload: { ...parties, claimId: null, otherClaimId: null, pattern: null, otherPattern: null, witness: "a", detectedBy: "e" },
  };
  t.same(names(opened), []);
});

t.test("when an event names explicit recipients, then they are added to the rule's, without repeats", async (t) => {
  const e: NewEvent = {
    type: "claim.expired",
    actor: systemActor,
    subject: { type: "claim", id: "c" },
    payload: { claimId: "c", sessionId: S2, userId: U2 },
    notify: [
      { type: "team", id: T1 },
      { type: "user", id: U2 },
      { type: "team", id: T1 },
    ],
  };
  t.same(names(e), [`session:${S2}`, `user:${U2}`, `team:${T1}`]);
  t.same(
    names({ type: "team.created", actor: user, subject: { type: "team", id: T1 }, payload: { name: "t" } }),
    [],
    "events without a rule alert nobody",
  );
});
