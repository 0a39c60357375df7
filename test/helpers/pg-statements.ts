import { once } from "node:events";
import { connect as netConnect, createServer, type Socket } from "node:net";

/** One statement a client sent: a simple query, or an Execute of a parsed one. */
export interface SentStatement {
  at: number;
  /** Which client connection sent it (1, 2, … in the order they connected). */
  connection: number;
  text: string;
}

/**
 * A TCP relay in front of PostgreSQL that reads what clients send (the frontend side of the
 * wire protocol) and records every statement: each simple Query ('Q') and each Execute ('E') of
 * the extended protocol, with the text its portal was bound to. pg_stat_statements is not there
 * to ask, and counting at the client sees every pool, lane and connection an app opens, as long
 * as its DATABASE_URL points here. Whatever the server answers passes through untouched.
 * Close it after the app that uses it.
 */
export async function statementCounter(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const statements: SentStatement[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((inbound) => {
    const connection = ++connections;
    const outbound = netConnect({ host: target.hostname, port: Number(target.port || 5432) });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        inbound.destroy();
        outbound.destroy();
        sockets.delete(s);
      });
    }
    const reader = new FrontendReader((text) => statements.push({ at: Date.now(), connection, text }));
    inbound.on("data", (chunk: Buffer) => {
      reader.push(chunk);
      outbound.write(chunk);
    });
    outbound.pipe(inbound);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    /** DATABASE_URL for the app under test: the same database, through this relay. */
    url: url.toString(),
    /** A point in the record, for `since`. */
    mark: () => statements.length,
    /** The statements sent since `mark`. */
    since: (mark: number) => statements.slice(mark),
    all: () => [...statements],
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const PROTOCOL_3 = 196608;

/** Splits a client's byte stream into protocol messages and reports each statement it sends. */
class FrontendReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Until the startup message: SSL/GSS requests and the startup itself carry no type byte. */
  private started = false;
  private readonly prepared = new Map<string, string>();
  private readonly portals = new Map<string, string>();

  constructor(private readonly onStatement: (text: string) => void) {}

  push(chunk: Buffer) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        if (this.buffer.readInt32BE(4) === PROTOCOL_3) this.started = true;
        this.buffer = this.buffer.subarray(length);
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < 1 + length) return;
      this.message(String.fromCharCode(this.buffer[0]!), this.buffer.subarray(5, 1 + length));
      this.buffer = this.buffer.subarray(1 + length);
    }
  }

  private message(type: string, body: Buffer) {
    const strings = (count: number) => {
      const out: string[] = [];
      let at = 0;
      for (let i = 0; i < count; i++) {
        const end = body.indexOf(0, at);
        out.push(body.toString("utf8", at, end));
        at = end + 1;
      }
      return out;
    };
    if (type === "Q") this.onStatement(strings(1)[0]!);
    else if (type === "P") {
      const [name, query] = strings(2);
      this.prepared.set(name!, query!);
    } else if (type === "B") {
      const [portal, statement] = strings(2);
      this.portals.set(portal!, this.prepared.get(statement!) ?? `(prepared statement ${statement})`);
    } else if (type === "E") {
      const [portal] = strings(1);
      this.onStatement(this.portals.get(portal!) ?? `(portal ${portal})`);
    }
  }
}
