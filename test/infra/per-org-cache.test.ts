import t from "tap";
import { perOrgCache } from "../../src/infra/per-org-cache.js";
import { sleep } from "../helpers/wait.js";

t.test("a per-organisation value is served from memory, refreshed in the background past half its time", async (t) => {
  let reads = 0;
  let value = "first";
  const cache = perOrgCache(200, async () => {
    reads++;
    return value;
  });
  t.equal(await cache.get("org"), "first");
  t.equal(await cache.get("org"), "first");
  t.equal(reads, 1, "one read while fresh");

  value = "second";
  await sleep(120);
  t.equal(await cache.get("org"), "first", "past half its time: still the value held, no caller waits");
  await sleep(10);
  t.equal(reads, 2, "while a read ran in the background");
  t.equal(await cache.get("org"), "second", "whose value is served next");

  value = "third";
  cache.forget("org");
  t.equal(await cache.get("org"), "third", "forget: read at once");
});

t.test("a failed read is not kept, and neither is a refresh that a forget overtook", async (t) => {
  let fail = true;
  let value = "a";
  const cache = perOrgCache(100, async () => {
    if (fail) throw new Error("down");
    return value;
  });
  await t.rejects(cache.get("org"));
  fail = false;
  t.equal(await cache.get("org"), "a", "the next call reads again");

  await sleep(60);
  value = "b";
  t.equal(await cache.get("org"), "a", "starts a background refresh");
  cache.forget("org");
  value = "c";
  t.equal(await cache.get("org"), "c", "read after the forget");
  await sleep(10);
  t.equal(await cache.get("org"), "c", "the overtaken refresh did not replace it");
});
