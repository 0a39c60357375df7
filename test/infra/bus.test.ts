import t, { type Test } from "tap";
import { createMemoryBus, createNatsBus, subjectMatches, type Bus, type BusMessage } from "../../src/infra/bus.js";
import { provisionBackends } from "../helpers/services.js";

t.test("when subjects are matched, then NATS wildcard rules apply", async (t) => {
  const table: [string, string, boolean][] = [
    ["a.b.c", "a.b.c", true],
    ["a.*.c", "a.b.c", true],
    ["a.*", "a.b.c", false],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    [">", "a", true],
    ["a.b", "a.b.c", false],
    ["a.b.c", "a.b", false],
    ["*.*.c", "x.y.c", true],
  ];
  for (const [pattern, subject, expected] of table) t.equal(subjectMatches(pattern, subject), expected, `${pattern} vs ${subject}`);
});

async function exercise(t: Test, bus: Bus) {
  const received = { all: [] as string[], one: [] as string[], exact: [] as string[] };
  const decoder = new TextDecoder();
  const record = (k: keyof typeof received) => (m: BusMessage) => received[k].push(`${m.subject}=${decoder.decode(m.data)}`);
  const prefix = `test${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const stops = [
    bus.subscribe(`${prefix}.>`, record("all")),
    bus.subscribe(`${prefix}.*.x`, record("one")),
    bus.subscribe(`${prefix}.a.x`, record("exact")),
  ];
  await bus.publish(`${prefix}.a.x`, "1");
  await bus.publish(`${prefix}.b.x`, "2");
  await bus.publish(`${prefix}.a.x.y`, "3", { msgId: "m-3" });
  await bus.ping();
  await new Promise((r) => setTimeout(r, 200));
  t.same(received.all, [`${prefix}.a.x=1`, `${prefix}.b.x=2`, `${prefix}.a.x.y=3`]);
  t.same(received.one, [`${prefix}.a.x=1`, `${prefix}.b.x=2`]);
  t.same(received.exact, [`${prefix}.a.x=1`]);
  stops.forEach((stop) => stop());
  await bus.publish(`${prefix}.a.x`, "4");
  await bus.ping();
  await new Promise((r) => setTimeout(r, 100));
  t.equal(received.all.length, 3, "no delivery after unsubscribe");
  await t.rejects(bus.publish("bad subject", "x"), /invalid subject/);
  t.throws(() => bus.subscribe("a.>.b", () => {}), /invalid subject/);
}

t.test("when the in-process bus is used, then it routes like NATS", async (t) => {
  const bus = createMemoryBus();
  await exercise(t, bus);
  await bus.close();
  await t.rejects(bus.publish("a", "x"), /closed/);
});

t.test("when NATS is used, then the same routing holds", async (t) => {
  const { natsUrl } = await provisionBackends();
  if (!natsUrl) {
    // Only outside CI: there provisionBackends fails the run when NATS is unreachable.
    t.comment("NATS is not reachable here; skipped");
    return;
  }
  const bus = await createNatsBus(natsUrl);
  t.equal(bus.kind, "nats");
  await exercise(t, bus);
  await bus.close();
});
