import t from "tap";
import {
  isTimeRange,
  nextDay,
  rangeDays,
  rangeLabel,
  rangeStart,
  TIME_RANGES,
  windowBounds,
  windowOf,
  windowParams,
} from "../../web/src/lib/time-range.js";

t.test("when a range is chosen, then its start is that long before now and its days cover it", async (t) => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  t.equal(rangeStart("1h", now), "2026-03-10T11:00:00.000Z");
  t.equal(rangeStart("7d", now), "2026-03-03T12:00:00.000Z");
  t.equal(rangeStart("", now), undefined, "any time has no start");
  t.equal(rangeDays("1h"), 1, "a range shorter than a day is today");
  t.equal(rangeDays("24h"), 1);
  t.equal(rangeDays("30d"), 30);
  t.equal(rangeDays("", 14), 14, "any time falls back where a bound is needed");
  t.equal(rangeLabel("90d"), "last 90 days");
  t.equal(rangeLabel(""), "any time");
});

t.test("when a range comes from an address, then only the known ones are taken", async (t) => {
  for (const r of TIME_RANGES) t.ok(isTimeRange(r.id), r.id);
  t.ok(isTimeRange(""));
  t.notOk(isTimeRange("2d"));
  t.notOk(isTimeRange(null));
});

t.test("when a chart's point opens a window of time, then the address carries it and the feed reads exactly it", async (t) => {
  const from = "2026-03-10T00:00:00.000Z";
  const to = "2026-03-11T00:00:00.000Z";
  const w = windowOf(new URLSearchParams({ from, to }));
  t.same(w, { from: Date.parse(from), to: Date.parse(to) });
  t.same(windowParams(w!), { from, to }, "back into the address unchanged");
  t.same(windowBounds(w!), { after: "2026-03-09T23:59:59.999Z", before: to }, "an event at exactly `from` is in, one at `to` is out");
  t.same(windowOf(new URLSearchParams({ from })), { from: Date.parse(from), to: null }, "no end: up to now");
  t.equal(windowBounds({ from: Date.parse(from), to: null }).before, undefined);
  t.same(windowOf(new URLSearchParams({ from, to: from })), { from: Date.parse(from), to: null }, "an empty window's end is dropped");
  t.equal(windowOf(new URLSearchParams({ from: "yesterday" })), null, "a bad time is no window");
  t.equal(windowOf(new URLSearchParams()), null);
  const midnight = new Date(2026, 2, 28).getTime();
  t.equal(new Date(nextDay(midnight)).getDate(), 29, "the next local midnight");
  t.equal(new Date(nextDay(midnight)).getHours(), 0);
});
