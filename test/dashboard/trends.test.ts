import t from "tap";
import { computeTrends, dayIndex, dayStarts, median, NO_TEAM, type TrendEvent } from "../../web/src/lib/trends.js";

const day0 = new Date(2025, 2, 1).getTime(); // local midnight, 1 March
const at = (dayOffset: number, hours: number, minutes = 0) => new Date(2025, 2, 1 + dayOffset, hours, minutes).toISOString();
let n = 0;
const event = (type: string, time: string, payload: Record<string, unknown>, repo: string | null = "github.com/acme/api"): TrendEvent => ({
  id: `e${++n}`,
  type,
  time,
  repo,
  payload,
});

t.test("when the range spans days, then they are calendar days", async (t) => {
  const days = dayStarts(day0 + 5 * 3600_000, new Date(2025, 2, 3, 12).getTime());
  t.equal(days.length, 3);
  t.equal(days[0], day0);
  t.equal(dayIndex(days, new Date(2025, 2, 2, 23, 59).getTime()), 1);
  t.equal(dayIndex(days, day0 - 1), -1);
  t.equal(median([]), null);
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5);
});

t.test("when conflicts are opened, then each counts once per team involved, on its day", async (t) => {
  const teams: Record<string, string[]> = { alice: ["payments"], bob: ["search", "payments"], carol: [] };
  const trends = computeTrends({
    from: day0,
    to: new Date(2025, 2, 3, 12).getTime(),
    conflicts: [
      event("conflict.opened", at(0, 10), { userId: "alice", otherUserId: "bob" }),
      event("conflict.opened", at(2, 9), { userId: "carol", otherUserId: "alice" }),
    ],
    claims: [],
    teamsOf: (u) => teams[u] ?? [],
  });
  const byTeam = Object.fromEntries(trends.conflictsByTeam.map((s) => [s.team, s.counts]));
  t.same(byTeam.payments, [1, 0, 1], "alice and bob share payments: counted once");
  t.same(byTeam.search, [1, 0, 0]);
  t.same(byTeam[NO_TEAM], [0, 0, 1]);
  t.equal(trends.conflictsByTeam[0]!.team, "payments", "busiest first");
});

t.test("when claims are granted and end, then repos are counted and the median duration is per day of ending", async (t) => {
  const trends = computeTrends({
    from: day0,
    to: new Date(2025, 2, 2, 23).getTime(),
    conflicts: [],
    claims: [
      event("claim.granted", at(0, 9), { claimId: "a" }),
      event("claim.granted", at(0, 9), { claimId: "b" }, "github.com/acme/web"),
      event("claim.granted", at(0, 10), { claimId: "c" }),
      event("claim.released", at(0, 9, 30), { claimId: "a" }),
      event("claim.expired", at(0, 11), { claimId: "b" }),
      event("claim.broken", at(1, 10), { claimId: "c" }),
      event("claim.released", at(1, 11), { claimId: "granted-before-the-range" }),
      event("claim.renewed", at(1, 11), { claimId: "c" }),
    ],
    teamsOf: () => [],
  });
  t.same(trends.claimsByRepo, [
    { repo: "github.com/acme/api", count: 2 },
    { repo: "github.com/acme/web", count: 1 },
  ]);
  t.same(trends.medianMinutesByDay, [75, 1440], "day 1: 30 and 120 minutes; day 2: 24 hours");
  t.equal(trends.medianMinutes, 120);
  t.equal(trends.measuredClaims, 3, "a claim granted before the range is not measured");
});
