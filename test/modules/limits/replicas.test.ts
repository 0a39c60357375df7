import { WebSocket } from "ws";
import t from "tap";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";

t.test("when two server processes share one PostgreSQL, then a token's requests are counted once across both", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    // Only outside CI: there provisionBackends fails the run when PostgreSQL is unreachable.
    t.comment("PostgreSQL is not reachable here; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const env = {
    DATABASE_URL: backends.databaseUrl,
    BRIGADE_BOOTSTRAP_TOKEN: "limits-replica-root-token-0123456789",
    RATE_LIMIT_TOKEN_REQUESTS: "6",
  };
  const [a, b] = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
  const minted = await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "counted" });
  t.equal(minted.status, 201);
  const token = minted.body.token as string;

  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await http(`${(i % 2 ? a : b).url}/v1/me`, token)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429], "six pass, alternating replicas, then both refuse");
  const refused = await http(`${a.url}/v1/me`, token);
  t.match(refused.body, { code: "rate.limited", limit: "tokenRequests", max: 6 });
});

/** Opens a `/v1/stream` socket; resolves with it once open, or with the refusal's status. */
function openSocket(baseUrl: string, token: string): Promise<{ socket: WebSocket | null; status: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/v1/stream`, { headers: { authorization: `Bearer ${token}` } });
    socket.once("open", () => resolve({ socket, status: 101 }));
    socket.once("unexpected-response", (_request, response) => {
      resolve({ socket: null, status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once("error", () => resolve({ socket: null, status: 0 }));
  });
}

t.test(
  "when a token opens stream sockets on two replicas, then its socket quota counts both, frees on close, and forgets a killed replica's sockets",
  async (t) => {
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("PostgreSQL is not reachable here; skipped");
      return;
    }
    t.teardown(() => backends.dropDatabase());
    const env = {
      DATABASE_URL: backends.databaseUrl,
      BRIGADE_BOOTSTRAP_TOKEN: "sockets-replica-root-token-0123456789",
      QUOTA_SOCKETS_PER_TOKEN: "3",
      STREAM_SOCKETS_HEARTBEAT_MS: "1000",
    };
    const [a, b] = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
    const minted = await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "streams" });
    const token = minted.body.token as string;
    const other = (await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "another" })).body.token as string;
    const open: WebSocket[] = [];
    t.teardown(() => open.forEach((s) => s.terminate()));
    const opened = async (url: string, as = token) => {
      const result = await openSocket(url, as);
      if (result.socket) open.push(result.socket);
      return result;
    };

    t.same(
      [(await opened(a.url)).status, (await opened(a.url)).status, (await opened(b.url)).status],
      [101, 101, 101],
      "three sockets over two replicas",
    );
    t.equal((await opened(b.url)).status, 429, "a fourth on the replica holding one is refused");
    t.equal((await opened(a.url)).status, 429, "and on the replica holding two");
    t.equal((await opened(b.url, other)).status, 101, "another token is not held to this one's quota");

    const closing = open.shift()!;
    await new Promise<void>((resolve) => {
      closing.once("close", () => resolve());
      closing.close();
    });
    const afterClose = await waitForStatus(() => opened(b.url), 101, 5_000);
    t.equal(afterClose, 101, "a socket closed on one replica frees a place on the other");

    // b dies without releasing anything: its rows stop counting once stale (3.5 heartbeats).
    await b.stop("SIGKILL");
    t.equal((await opened(a.url)).status, 429, "right after the kill, the dead replica's sockets still count");
    const afterStale = await waitForStatus(() => opened(a.url), 101, 20_000);
    t.equal(afterStale, 101, "once stale, the killed replica's sockets no longer count");

    // The live replica refreshes its rows: long past the stale time its sockets still count.
    await new Promise((r) => setTimeout(r, 5_000));
    t.equal((await opened(a.url)).status, 101, "a third socket for the token, on the live replica");
    t.equal((await opened(a.url)).status, 429, "and no fourth: the live replica's older sockets still count");
  },
);

async function waitForStatus(attempt: () => Promise<{ status: number }>, wanted: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await attempt()).status;
    if (last === wanted) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** Sends a subscribe frame and resolves with the server's answer to it. */
function subscribe(socket: WebSocket, id: string): Promise<{ type: string; code?: string }> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const frame = JSON.parse(data.toString());
      if (frame.id !== id || (frame.type !== "subscribed" && frame.type !== "error")) return;
      socket.off("message", onMessage);
      resolve(frame);
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ type: "subscribe", id, topic: "events" }));
  });
}

t.test(
  "when a token subscribes through sockets on two replicas, then its subscription quota counts both and frees on unsubscribe and close",
  async (t) => {
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("PostgreSQL is not reachable here; skipped");
      return;
    }
    t.teardown(() => backends.dropDatabase());
    const env = {
      DATABASE_URL: backends.databaseUrl,
      BRIGADE_BOOTSTRAP_TOKEN: "subs-replica-root-token-0123456789",
      QUOTA_SOCKETS_PER_TOKEN: "4",
      QUOTA_SUBSCRIPTIONS_PER_TOKEN: "3",
    };
    const [a, b] = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
    const token = (await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "subs" })).body.token as string;
    const other = (await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "other" })).body.token as string;
    const sockets: WebSocket[] = [];
    t.teardown(() => sockets.forEach((s) => s.terminate()));
    const socketOn = async (url: string, as = token) => {
      const { socket } = await openSocket(url, as);
      if (!socket) throw new Error("the socket was refused");
      sockets.push(socket);
      return socket;
    };
    const onA = await socketOn(a.url);
    const onB = await socketOn(b.url);

    const answers = [await subscribe(onA, "a1"), await subscribe(onA, "a2"), await subscribe(onB, "b1")];
    t.same(
      answers.map((x) => x.type),
      ["subscribed", "subscribed", "subscribed"],
      "three subscriptions over two replicas",
    );
    t.match(
      await subscribe(onB, "b2"),
      { type: "error", code: "stream.too_many_subscriptions" },
      "a fourth on the replica holding one is refused",
    );
    t.match(await subscribe(onA, "a3"), { type: "error", code: "stream.too_many_subscriptions" }, "and on the replica holding two");
    const otherSocket = await socketOn(b.url, other);
    t.match(await subscribe(otherSocket, "o1"), { type: "subscribed" }, "another token is not held to this one's quota");

    onA.send(JSON.stringify({ type: "unsubscribe", id: "a1" }));
    const afterUnsubscribe = await waitForAnswer(() => subscribe(onB, `b-after-unsubscribe-${Date.now()}`), 5_000);
    t.equal(afterUnsubscribe.type, "subscribed", "an unsubscribe on one replica frees a place on the other");

    await new Promise<void>((resolve) => {
      onA.once("close", () => resolve());
      onA.close();
    });
    const fresh = await socketOn(b.url);
    const afterClose = await waitForAnswer(() => subscribe(fresh, `after-close-${Date.now()}`), 5_000);
    t.equal(afterClose.type, "subscribed", "a closed socket's subscriptions stop counting");
    t.match(await subscribe(fresh, "one-too-many"), { type: "error", code: "stream.too_many_subscriptions" }, "and the quota holds again");
  },
);

async function waitForAnswer(attempt: () => Promise<{ type: string }>, withinMs: number) {
  const deadline = Date.now() + withinMs;
  let last = await attempt();
  while (last.type !== "subscribed" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await attempt();
  }
  return last;
}
