import t from "tap";
import { isTimeRange, rangeDays, rangeLabel, rangeStart, TIME_RANGES } from "../../web/src/lib/time-range.js";

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
