/** The pre-edit hook's one POST over a plain TCP connection (src/cli/hooks/plain-http.ts), against real servers. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import t from "tap";
import { parseAnswer, postJson } from "../../src/cli/hooks/plain-http.js";

type Tap = { teardown(fn: () => unknown): void };

/** A real HTTP server; `handle` answers each request after its body has arrived. */
async function serve(t: Tap, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/hooks/claude-code?x=1`);
}

/** A TCP server that does `onConnection` with each connection (for answers no HTTP server gives). */
async function rawServer(t: Tap, onConnection: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/hooks/claude-code`);
}

t.test("the request carries the path, the headers and the body, and the answer is read by its length", async (t) => {
  let seen: { method?: string; url?: string; headers?: IncomingMessage["headers"]; body?: string } = {};
  const url = await serve(t, (req, body, res) => {
    seen = { method: req.method, url: req.url, headers: req.headers, body };
    // A server that answers only after a while: the client must not have closed its side.
    setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":"é"}'), 50);
  });
  const body = JSON.stringify({ file: "src/é.ts" });
  const answer = await postJson(url, { authorization: "Bearer t", "x-brigade-repo": "github.com/acme/api" }, body, 2_000);
  t.same(answer, { status: 200, body: '{"ok":"é"}' });
  t.equal(seen.method, "POST");
  t.equal(seen.url, "/v1/hooks/claude-code?x=1");
  t.equal(seen.body, body, "the body arrives whole, UTF-8");
  t.match(seen.headers, {
    authorization: "Bearer t",
    "x-brigade-repo": "github.com/acme/api",
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
  });
});

t.test("a chunked answer and an error status are read whole", async (t) => {
  const url = await serve(t, (_req, _body, res) => {
    res.writeHead(401, { "content-type": "application/problem+json" });
    res.write('{"code":');
    setTimeout(() => res.end('"auth.token_revoked"}'), 20);
  });
  t.same(await postJson(url, {}, "{}", 2_000), { status: 401, body: '{"code":"auth.token_revoked"}' });
});

t.test("an answer is taken once its announced length is in, though the connection stays open", async (t) => {
  const url = await rawServer(t, (socket) =>
    socket.once("data", () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n{"a":"b"}\n')),
  );
  const started = performance.now();
  t.same(await postJson(url, {}, "{}", 5_000), { status: 200, body: '{"a":"b"}\n' });
  t.ok(performance.now() - started < 2_000, "not at the timeout");
  const garbled = await rawServer(t, (socket) => socket.once("data", () => socket.write("HTTP/9 200\r\ncontent-length: 0\r\n\r\n")));
  await t.rejects(postJson(garbled, {}, "{}", 5_000), /not an HTTP answer/, "a malformed answer that stays open rejects at once");
});

t.test("what is not a whole HTTP answer rejects, with what went wrong", async (t) => {
  const closed = await rawServer(t, (socket) => socket.end());
  await t.rejects(postJson(closed, {}, "{}", 2_000), /ended before its headers/);
  const notHttp = await rawServer(t, (socket) => socket.end("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  await t.rejects(postJson(notHttp, {}, "{}", 2_000), /not an HTTP answer/);
  const short = await rawServer(t, (socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}"));
  await t.rejects(postJson(short, {}, "{}", 2_000), /ended before its body/);
  const silent = await rawServer(t, () => undefined);
  await t.rejects(postJson(silent, {}, "{}", 100), /no answer within 100 ms/);
  const gone = new URL(`http://127.0.0.1:${await freePort()}/`);
  await t.rejects(postJson(gone, {}, "{}", 2_000), { code: "ECONNREFUSED" }, "nothing listens");
  await t.rejects(postJson(closed, { "x-bad": "a\r\nInjected: 1" }, "{}", 2_000), /line break/, "no header injection");
});

t.test("parseAnswer: chunk extensions, trailers, and a body past its length", async (t) => {
  const raw = (s: string) => Buffer.from(s, "latin1");
  t.same(parseAnswer(raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\nTrailer: 1\r\n\r\n")), {
    status: 200,
    body: "{}",
  });
  t.same(parseAnswer(raw("HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n")), { status: 204, body: "" });
  t.same(parseAnswer(raw("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}garbage")), { status: 200, body: "{}" });
  t.throws(() => parseAnswer(raw("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n")), /malformed chunk/);
  t.throws(() => parseAnswer(raw("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{}")), /inside a chunk/);
});

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
