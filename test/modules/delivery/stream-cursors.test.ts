import t from "tap";
import { newId } from "../../../src/infra/ids.js";
import { type Delivery, type ReplayTarget, replay, startCursor, takeLive } from "../../../src/modules/delivery/stream.cursors.js";
import { openTestDatabase } from "../../helpers/database.js";

// The relay publishes a batch before it records the batch's positions. When a NATS node dies and
// the acknowledgements are lost, it publishes the batch again with new positions, and a socket
// that had the first copies live reads the same events from the log at their new positions when
// it catches up after the bus reconnects. These cases drive that sequence on one cursor.

/** The relay's default batch size (RELAY_BATCH_SIZE). */
const RELAY_BATCH = 500;

const item = (key: string, position: number): Delivery => ({ position, key, eventId: key, frame: `frame ${key}` });

/** A subscription whose log reads return `log` once, and which records what it sends. */
function target(cursor: ReplayTarget["cursor"], log: Delivery[]) {
  const sent: string[] = [];
  let pages = [log];
  const sub: ReplayTarget = {
    id: "grants",
    cursor,
    read: async () => {
      const [page = []] = pages;
      pages = pages.slice(1);
      return page.filter((d) => d.position !== null && d.position > cursor.position);
    },
    active: () => true,
    congested: () => false,
    drained: async () => true,
    send: (frame) => {
      sent.push(frame);
      return true;
    },
  };
  return { sub, sent };
}

t.test("cursors over a relay's republished batch", async (t) => {
  const database = (await openTestDatabase(t, "pglite"))!;
  const orgId = newId();

  t.test("when events sent live come back from the log at new positions, then the catch-up sends only the new ones", async (t) => {
    const cursor = await startCursor(database.db, orgId, null, undefined, RELAY_BATCH);
    t.ok(takeLive(cursor, 10, "e1", "e1", "frame e1"), "e1 goes out live at position 10");
    t.ok(takeLive(cursor, 11, "e2", "e2", "frame e2"), "e2 at 11");
    // The bus reconnects: the subscription reads the gap back from the log, where e1 and e2 now
    // sit at the positions of the relay's second pass, followed by an event it has not seen.
    cursor.live = false;
    const { sub, sent } = target(cursor, [item("e1", 12), item("e2", 13), item("e3", 14)]);
    await replay(database.db, orgId, sub);
    t.same(sent.slice(0, -1), ["frame e3"], "e1 and e2 are not sent twice; e3 is sent");
    t.match(JSON.parse(sent.at(-1)!), { type: "live", id: "grants", position: 14, after: "e3" });
    t.ok(takeLive(cursor, 15, "e4", "e4", "frame e4"), "and what follows goes out live");
  });

  t.test("when nothing was sent live, then a replay sends the whole log past the cursor", async (t) => {
    const cursor = await startCursor(database.db, orgId, null, undefined, RELAY_BATCH);
    cursor.live = false;
    const { sub, sent } = target(cursor, [item("f1", 12), item("f2", 13)]);
    await replay(database.db, orgId, sub);
    t.same(sent.slice(0, -1), ["frame f1", "frame f2"]);
  });

  t.test("when more than a relay batch was sent live, then the oldest are forgotten and only the newest are skipped", async (t) => {
    const cursor = await startCursor(database.db, orgId, null, undefined, RELAY_BATCH);
    const sentLive = Array.from({ length: 600 }, (_, i) => takeLive(cursor, i + 1, `g${i}`, `g${i}`, `frame g${i}`));
    t.ok(sentLive.every(Boolean), "600 events go out live");
    cursor.live = false;
    // g0 was sent 600 keys ago (past the 512 remembered); g599 was the last.
    const { sub, sent } = target(cursor, [item("g0", 700), item("g599", 701), item("h", 702)]);
    await replay(database.db, orgId, sub);
    t.same(sent.slice(0, -1), ["frame g0", "frame h"]);
  });

  t.test("when the relay's batches are larger, then a subscription remembers a whole batch sent live", async (t) => {
    const cursor = await startCursor(database.db, orgId, null, undefined, 1_000);
    for (let i = 0; i < 600; i++) takeLive(cursor, i + 1, `k${i}`, `k${i}`, `frame k${i}`);
    cursor.live = false;
    const { sub, sent } = target(cursor, [item("k0", 700), item("k599", 701), item("m", 702)]);
    await replay(database.db, orgId, sub);
    t.same(sent.slice(0, -1), ["frame m"], "all 600 of a 1,000-event batch's keys are skipped");
  });
});
