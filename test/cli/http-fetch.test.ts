/** The hooks' fetch over node:http (packages/cli/src/http-fetch.ts), against a real HTTP server. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import t from "tap";
import { fetch, Headers, Request, Response } from "../../packages/cli/src/http-fetch.js";

type Tap = { teardown(fn: () => unknown): void };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function serve(t: Tap, handle: (seen: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(s);
      handle(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
t.test("a JSON request and its answer", async (t) => {
  const { url, seen } = await serve(t, (s, res) => {
    res.writeHead(201, "Made", { "content-type": "application/json", "x-twice": ["a", "b"] });
    res.end(JSON.stringify({ echoed: JSON.parse(s.body) }));
  });
  const request = new Request(`${url}/v1/things?x=1`, {
    method: "post",
    headers: { "Content-Type": "application/json", Authorization: "Bearer t" },
    body: JSON.stringify({ name: "é" }),
  });
  const res = await fetch(request, { signal: AbortSignal.timeout(5_000) });
  t.equal(res.status, 201);
  t.equal(res.statusText, "Made");
  t.ok(res.ok);
  t.equal(res.headers.get("Content-Type"), "application/json");
  t.equal(res.headers.get("x-twice"), "a, b");
  t.same(await res.json(), { echoed: { name: "é" } });
  await t.rejects(res.text(), /already read/, "a body is read once");
  t.equal(seen[0]!.method, "POST");
  t.equal(seen[0]!.url, "/v1/things?x=1");
  t.equal(seen[0]!.headers["authorization"], "Bearer t");
  t.equal(seen[0]!.headers["content-length"], String(Buffer.byteLength(JSON.stringify({ name: "é" }))));
  t.notOk(seen[0]!.headers["accept-encoding"], "no compression asked for, so none to undo");
});

t.test("an error status is an answer, not a failure", async (t) => {
  const { url } = await serve(t, (_s, res) => {
    res.writeHead(409, { "content-type": "application/problem+json" });
    res.end('{"code":"claims.conflict"}');
  });
  const res = await fetch(`${url}/x`);
  t.equal(res.status, 409);
  t.notOk(res.ok);
  t.equal(await res.text(), '{"code":"claims.conflict"}');
});

t.test("redirects: 307 keeps the method and body, 303 continues as GET without one", async (t) => {
  const { url, seen } = await serve(t, (s, res) => {
    if (s.url === "/keep") res.writeHead(307, { location: "/landed" }).end();
    else if (s.url === "/see-other") res.writeHead(303, { location: "/landed" }).end();
    else res.writeHead(200).end(`${s.method} ${s.body}`);
  });
  const kept = await fetch(`${url}/keep`, { method: "POST", body: "payload", headers: { "content-type": "text/plain" } });
  t.equal(await kept.text(), "POST payload");
  t.ok(kept.redirected);
  t.equal(kept.url, `${url}/landed`);
  const other = await fetch(`${url}/see-other`, { method: "POST", body: "payload", headers: { "content-type": "text/plain" } });
  t.equal(await other.text(), "GET ");
  t.notOk(seen.at(-1)!.headers["content-type"]);
});

t.test("a redirect to another origin drops the Authorization header", async (t) => {
  const target = await serve(t, (_s, res) => res.writeHead(200).end("ok"));
  const { url } = await serve(t, (_s, res) => res.writeHead(302, { location: `${target.url}/elsewhere` }).end());
  const res = await fetch(`${url}/go`, { headers: { authorization: "Bearer secret" } });
  t.equal(await res.text(), "ok");
  t.equal(target.seen[0]!.headers["authorization"], undefined);
});

t.test("a timeout rejects with the signal's reason; a refused connection with its code", async (t) => {
  const { url } = await serve(t, () => {
    // Never answers.
  });
  const started = performance.now();
  const err = await fetch(`${url}/slow`, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
  t.equal((err as Error).name, "TimeoutError");
  t.ok(performance.now() - started < 5_000, "it did not wait for the server");
  const refused = await fetch("http://127.0.0.1:9/").catch((e: unknown) => e);
  t.equal((refused as { code?: string }).code, "ECONNREFUSED");
});

t.test("Headers, Request and Response as the SDK client uses them", async (t) => {
  const h = new Headers({ A: "1" });
  h.append("a", "2");
  h.set("B", "3");
  t.equal(h.get("a"), "1, 2");
  t.same(
    [...new Headers(h)],
    [
      ["a", "1, 2"],
      ["b", "3"],
    ],
  );
  h.delete("A");
  t.notOk(h.has("a"));
  const r = new Response('{"x":1}', { status: 204 });
  t.equal(r.status, 204);
  t.same(await r.clone().json(), { x: 1 });
  t.notOk(new Request("http://127.0.0.1/").bytes, "a GET has no body");
  t.throws(() => new Request("http://127.0.0.1/", { body: "x" }), /GET request cannot have a body/);
});
