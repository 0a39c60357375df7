/**
 * One JSON POST and its answer, for the pre-edit hook's fast path (edit-guard.ts), which runs
 * before every edit an agent makes and has a budget of a few milliseconds beyond Node's own start.
 *
 * Why not `node:http`: loading it and building its first request costs 4–5 ms of a short-lived
 * process (it loads the server side, the agent and the stream machinery too); measured on the
 * bench machine, that was the difference between 1.37× and 1.64× a bare `node -e 0` for a denied
 * edit. A plain-HTTP server is spoken to over `node:net` with the least of HTTP/1.1 a client
 * needs: one request with `connection: close`, and an answer taken once the body its
 * `content-length` announces is in, else read to the end of the connection (`chunked` decoded).
 * An `https:` server goes through `node:https`, where TLS
 * costs more than the client does. Anything unusual (a redirect, a body too large, a malformed
 * answer) rejects, and the hook takes its whole path, which speaks through the SDK client.
 */
import { connect } from "node:net";

export interface PlainAnswer {
  status: number;
  body: string;
}

/** An answer larger than this is not an edit check's; the whole hook path deals with it. */
const MAX_ANSWER_BYTES = 1 << 20;

export function postJson(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PlainAnswer> {
  return url.protocol === "http:" ? overTcp(url, headers, body, timeoutMs) : overHttps(url, headers, body, timeoutMs);
}

function overTcp(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PlainAnswer> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body, "utf8");
    const lines = [
      `POST ${url.pathname}${url.search} HTTP/1.1`,
      `host: ${url.host}`,
      "connection: close",
      "content-type: application/json",
      `content-length: ${payload.length}`,
      ...Object.entries(headers).map(([k, v]) => {
        if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${k} holds a line break`);
        return `${k}: ${v}`;
      }),
    ];
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 80) });
    const chunks: Buffer[] = [];
    let size = 0;
    let answered = false;
    // One deadline for the whole exchange, on a plain timer (the socket's idle timeout costs a
    // short-lived process more on first use); unref'd, it never holds a process open.
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    socket.on("data", (chunk: Buffer) => {
      if (answered) return;
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) return socket.destroy(new Error("the answer is larger than an edit check's"));
      chunks.push(chunk);
      // Done once the body its length announces is in, whether or not the other side closes (a
      // proxy may keep the connection open despite `connection: close`).
      let whole: PlainAnswer | null;
      try {
        whole = answerIfWhole(Buffer.concat(chunks));
      } catch (err) {
        return socket.destroy(err as Error);
      }
      if (whole) {
        answered = true;
        resolve(whole);
        // After the answer's readers have run: a hook process that exits on it never pays for
        // tearing the socket down; a long-lived one closes it a moment later.
        clearTimeout(timer);
        setImmediate(() => socket.destroy());
      }
    });
    socket.once("error", reject);
    socket.once("end", () => {
      if (answered) return;
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    // Not end(): a server that sees the client half-close aborts the request it is still answering.
    socket.write(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]));
  });
}

/** The answer when `raw` holds all of it by its `content-length`; null while more is to come (or it has none). */
function answerIfWhole(raw: Buffer): PlainAnswer | null {
  const headEnd = raw.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(raw.subarray(0, headEnd + 2).toString("latin1"))?.[1];
  if (length === undefined || raw.length - headEnd - 4 < Number(length)) return null;
  return parseAnswer(raw);
}

/** An HTTP/1.1 answer read to the end of its connection: status line, headers, body. */
export function parseAnswer(raw: Buffer): PlainAnswer {
  const headEnd = raw.indexOf("\r\n\r\n");
  if (headEnd < 0) throw new Error("the answer ended before its headers did");
  const [statusLine = "", ...headerLines] = raw.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!status) throw new Error(`not an HTTP answer (${JSON.stringify(statusLine.slice(0, 40))})`);
  const header = (name: string) =>
    headerLines
      .filter((l) => l.slice(0, l.indexOf(":")).trim().toLowerCase() === name)
      .map((l) => l.slice(l.indexOf(":") + 1).trim())
      .join(", ");
  let body = raw.subarray(headEnd + 4);
  if (/\bchunked\b/i.test(header("transfer-encoding"))) body = unchunk(body);
  else {
    const length = header("content-length");
    if (length) {
      if (!/^\d+$/.test(length) || Number(length) > body.length) throw new Error("the answer ended before its body did");
      body = body.subarray(0, Number(length));
    }
  }
  return { status: Number(status[1]), body: body.toString("utf8") };
}

function unchunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd < 0) throw new Error("the answer ended inside a chunk");
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString("latin1").split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error("the answer has a malformed chunk");
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (start + size + 2 > raw.length) throw new Error("the answer ended inside a chunk");
    parts.push(raw.subarray(start, start + size));
    at = start + size + 2;
  }
}

async function overHttps(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PlainAnswer> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error("the answer is larger than an edit check's"));
        else chunks.push(chunk);
      });
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", reject);
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once("error", reject);
    req.end(body);
  });
}
