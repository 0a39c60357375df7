import fc from "fast-check";
import t from "tap";
import { assertValidSubject, subjectMatches } from "../../src/infra/bus.js";
import { defaultStreamName, messageIds, repoKeyFromSubjectToken, repoSubjectToken, subjectsFor } from "../../src/events/subjects.js";

const org = "0190f6a2-3b4c-7d5e-8f60-718293a4b5c6";
const s = subjectsFor("brigade");

t.test("when subjects are built, then they follow <prefix>.<org>.<kind>…", async (t) => {
  t.equal(s.event(org, "claim.granted"), `brigade.${org}.events.claim.granted`);
  t.equal(s.event(org, "signing_key.rotated"), `brigade.${org}.events.signing_key.rotated`);
  t.equal(s.repo(org, "github.com/acme/api", "claim.granted"), `brigade.${org}.repo.github_2ecom_2facme_2fapi.claim.granted`);
  t.equal(s.alert(org, { type: "session", id: "abc" }), `brigade.${org}.alerts.session.abc`);
  t.equal(s.all, "brigade.>");
  t.equal(s.allEvents(org), `brigade.${org}.events.>`);
  t.equal(s.allEvents(org, "claim"), `brigade.${org}.events.claim.>`);
  t.equal(s.allRepo(org, "github.com/acme/api"), `brigade.${org}.repo.github_2ecom_2facme_2fapi.>`);
  t.equal(s.allAlerts(org), `brigade.${org}.alerts.>`);
  t.equal(s.allAlerts(org, { type: "user", id: "u1" }), `brigade.${org}.alerts.user.u1`);
  t.equal(subjectsFor("t.relay-1").event(org, "org.created"), `t.relay-1.${org}.events.org.created`);
  for (const subject of [
    s.event(org, "claim.granted"),
    s.repo(org, "gitlab.example.org/group/sub/project~x+y_z", "session.started"),
    s.alert(org, { type: "team", id: "t" }),
  ]) {
    t.doesNotThrow(() => assertValidSubject(subject, false), subject);
  }
  t.ok(subjectMatches(s.allRepo(org, "github.com/acme/api"), s.repo(org, "github.com/acme/api", "session.ended")));
  t.notOk(subjectMatches(s.allRepo(org, "github.com/acme/api"), s.repo(org, "github.com/acme/api2", "session.ended")));
});

t.test("when an input could break a subject, then building it throws", async (t) => {
  t.throws(() => subjectsFor("bad prefix"), /prefix/);
  t.throws(() => subjectsFor("a.>"), /prefix/);
  t.throws(() => subjectsFor(""), /prefix/);
  t.throws(() => s.event("a.b", "claim.granted"), /org id/);
  t.throws(() => s.event(org, "claim.*"), /event type/);
  t.throws(() => s.event(org, "Claim granted"), /event type/);
  t.throws(() => s.alert(org, { type: "session", id: ">" }), /recipient id/);
  t.throws(() => repoSubjectToken(""), /empty/);
});

t.test("when repo keys become tokens, then [a-z0-9-] stay readable and everything else is escaped reversibly", async (t) => {
  t.equal(repoSubjectToken("github.com/acme/api"), "github_2ecom_2facme_2fapi");
  t.equal(repoSubjectToken("host-1.io/a_b/c~d+e"), "host-1_2eio_2fa_5fb_2fc_7ed_2be");
  t.equal(repoSubjectToken("é.io/x"), "_c3_a9_2eio_2fx");
  t.equal(repoKeyFromSubjectToken("github_2ecom_2facme_2fapi"), "github.com/acme/api");
  t.throws(() => repoKeyFromSubjectToken("github.com"), /not a repo subject token/);
  t.throws(() => repoKeyFromSubjectToken("a_2"), /not a repo subject token/);
  t.throws(() => repoKeyFromSubjectToken("a_61"), /canonical/, "an escaped readable character is not the canonical spelling");
  t.throws(() => repoKeyFromSubjectToken("_ff"), "invalid UTF-8");
  t.equal(repoKeyFromSubjectToken(repoSubjectToken("\uFEFFa")), "\uFEFFa", "a leading byte order mark is part of the key");

  const result = fc.check(
    fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 80 }), (key) => {
      const token = repoSubjectToken(key);
      return /^([a-z0-9-]|_[0-9a-f]{2})+$/.test(token) && repoKeyFromSubjectToken(token) === key;
    }),
    { numRuns: 2_000 },
  );
  t.equal(
    result.failed,
    false,
    `round trip holds${result.counterexample ? `; counterexample ${JSON.stringify(result.counterexample)}` : ""}`,
  );
  const distinct = fc.check(
    fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => a === b || repoSubjectToken(a) !== repoSubjectToken(b)),
    { numRuns: 2_000 },
  );
  t.equal(distinct.failed, false, "different keys, different tokens");
});

t.test("when a subject is parsed, then its parts come back", async (t) => {
  t.same(s.parse(s.event(org, "claim.granted")), { kind: "events", orgId: org, type: "claim.granted" });
  t.same(s.parse(s.repo(org, "github.com/acme/api", "claim.granted")), {
    kind: "repo",
    orgId: org,
    repo: "github.com/acme/api",
    type: "claim.granted",
  });
  t.same(s.parse(s.alert(org, { type: "user", id: "u1" })), { kind: "alerts", orgId: org, recipient: { type: "user", id: "u1" } });
  t.equal(s.parse(`other.${org}.events.x`), null);
  t.equal(s.parse(`brigade.${org}.alerts.robot.x`), null);
  t.equal(s.parse(`brigade.${org}.repo.bad_zz.x`), null);
});

t.test("when an organisation's alert batches get their subject, then it is outside the stream and every issued credential", async (t) => {
  const fanout = s.fanout(org);
  t.equal(fanout, `brigade-fanout.${org}`);
  t.same(s.parse(fanout), { kind: "fanout", orgId: org });
  t.ok(subjectMatches(s.allFanout, fanout), "the servers' subscription covers it");
  t.notOk(subjectMatches(s.all, fanout), "the JetStream stream does not store it");
  // What a lead or admin may subscribe to (nats.usecases.ts allowedSubjects): the organisation's tree.
  t.notOk(subjectMatches(`${s.prefix}.${org}.>`, fanout), "a lead's or admin's credential does not reach it");
  const nested = subjectsFor("t.relay-1");
  t.notOk(subjectMatches(nested.all, nested.fanout(org)), "nor with a prefix of several tokens");
  t.same(nested.parse(nested.fanout(org)), { kind: "fanout", orgId: org });
  t.equal(s.parse("brigade-fanout.a.b"), null, "one org token only");
  t.throws(() => s.fanout("a.b"));
});

t.test("message ids differ per subject of one event; stream names follow the prefix", async (t) => {
  const id = "0190f6a2-3b4c-7d5e-8f60-718293a4b5c7";
  t.equal(messageIds.event(id), id);
  t.equal(messageIds.repo(id), `${id}.repo`);
  t.equal(messageIds.alert("a1"), "a1");
  t.equal(defaultStreamName("brigade"), "BRIGADE");
  t.equal(defaultStreamName("t.relay-1"), "T_RELAY-1");
});
