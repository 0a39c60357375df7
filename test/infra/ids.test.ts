import t from "tap";
import { validate, version } from "uuid";
import { newId } from "../../src/infra/ids.js";

t.test("when many ids are made in a tight loop, then each is a valid UUIDv7, unique, and they sort in creation order", async (t) => {
  const ids = Array.from({ length: 20_000 }, () => newId());
  t.ok(
    ids.every((id) => validate(id) && version(id) === 7),
    "every id is a UUIDv7",
  );
  t.equal(new Set(ids).size, ids.length, "no repeats, across refills of the random pool");
  const outOfOrder = ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]!);
  t.equal(outOfOrder, -1, "each sorts after the previous, within a millisecond too");
  const millisecond = (id: string) => id.replaceAll("-", "").slice(0, 12);
  const perMs = new Map<string, number>();
  for (const id of ids) perMs.set(millisecond(id), (perMs.get(millisecond(id)) ?? 0) + 1);
  t.ok(Math.max(...perMs.values()) > 1, "the loop made several ids in one millisecond (the case the counter is for)");
});

t.test("when ids are made a millisecond apart, then their timestamp is the clock's", async (t) => {
  const before = Date.now();
  const id = newId();
  const after = Date.now();
  const ms = parseInt(id.replaceAll("-", "").slice(0, 12), 16);
  // (The counter's overflow may borrow the next millisecond: at most one ahead.)
  t.ok(ms >= before && ms <= after + 1, `timestamp ${ms} within [${before}, ${after}]`);
});
