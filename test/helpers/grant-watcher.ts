import type { Test } from "tap";
import { streamItems } from "../../src/sdk/subscribe.js";
import { sleep, waitFor } from "./wait.js";

/**
 * A `/v1/stream` subscriber to every `claim.granted` (reconnecting as the SDK does, over one or
 * several replicas), and the checks a fault test makes of it at the end: it saw each of the
 * claims granted once (by claim id, so a retried request that was granted twice counts once), in
 * position order, and names any it missed.
 */
export function watchGrants(url: string | string[], token: string) {
  const abort = new AbortController();
  const received: { id: string; claimId: string; position: number }[] = [];
  const statuses: string[] = [];
  const subscriber = (async () => {
    for await (const item of streamItems({
      url,
      token,
      subscriptions: [{ id: "grants", topic: "events", filter: { type: "claim.granted" } }],
      signal: abort.signal,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      onStatus: (status) => statuses.push(`${status.state}${"code" in status ? ` ${status.code}` : ""}`),
    })) {
      if (item.type === "event") {
        const claimId = String((item.event.payload as { claimId?: unknown }).claimId);
        received.push({ id: item.event.id, claimId, position: item.event.position ?? -1 });
      }
    }
  })();
  return {
    received,
    statuses,
    /** Resolves once the subscription has replayed and is live. */
    live: (t: Test) =>
      waitFor("the subscriber to be live", () => statuses.includes("live"), 30_000).catch((err) => {
        t.comment(`stream statuses: ${statuses.join(", ")}`);
        throw err;
      }),
    /** Waits for the grants of the `granted` claim ids, stops, and checks: each once, in position order. */
    async checkAll(t: Test, granted: ReadonlySet<string>, seen: string) {
      const missing = () => [...granted].filter((id) => !received.some((r) => r.claimId === id));
      await waitFor("the subscriber to see every grant", () => received.length >= granted.size, 60_000).catch((err) => {
        t.comment(
          `received ${received.length} of ${granted.size}; missing ${missing().join(", ")}; stream statuses: ${statuses.join(", ")}`,
        );
        throw err;
      });
      await sleep(300);
      abort.abort();
      await subscriber;
      t.same(missing(), [], seen);
      t.equal(received.length, granted.size, "nothing but the granted claims");
      t.equal(new Set(received.map((r) => r.id)).size, received.length, "no duplicate");
      t.ok(
        received.every((r, i) => i === 0 || r.position > received[i - 1]!.position),
        "in position order",
      );
    },
  };
}
