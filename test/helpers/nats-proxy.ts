import { once } from "node:events";
import { connect as netConnect, createServer, type Socket } from "node:net";

type Tap = { teardown(fn: () => unknown): void };

/** A TCP relay to NATS that the test can cut, as a network partition would. */
export async function natsProxy(t: Tap, target: string) {
  const upstream = new URL(target.split(",")[0]!.replace(/^nats:/, "http:"));
  const sockets = new Set<Socket>();
  let up = true;
  const server = createServer((inbound) => {
    if (!up) return void inbound.destroy();
    const outbound = netConnect({ host: upstream.hostname, port: Number(upstream.port || 4222) });
    const pair = [inbound, outbound];
    for (const s of pair) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => pair.forEach((p) => (p.destroy(), sockets.delete(p))));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    url: `nats://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
  };
}
