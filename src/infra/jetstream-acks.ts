import { createInbox, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";

/**
 * JetStream publishes whose acknowledgements (PubAcks) come back to one subscription of their
 * own, matched by the reply subject's last token.
 *
 * nats.js's `jetstream().publish` is a request per message: a timer and a request object each,
 * and once the answer has resolved it, a `RequestError("cancelled")` built and thrown away (its
 * cleanup path). When a directive's 1,000 alerts leave at once that was 5.5% of the server's
 * CPU, spent before the first socket heard anything. Here a publish is one map entry; one timer
 * sweeps the deadlines (they are due in the order sent, the timeout being the same for all).
 */
export class JetStreamAcks {
  private readonly inbox: string;
  private readonly pending = new Map<string, PendingAck>();
  private next = 0;
  private closed = false;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly connection: NatsConnection,
    private readonly stream: string,
    private readonly timeoutMs: number,
  ) {
    this.inbox = createInbox((connection as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    const sub = connection.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.answered(err, msg) });
    this.unsubscribe = () => sub.unsubscribe();
  }

  /** Resolves once the stream has stored the message (or had it already: the id was a duplicate). */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the NATS connection is closed; nothing published on ${subject}`));
    const token = (this.next++).toString(36);
    const headers = natsHeaders();
    headers.set("Nats-Msg-Id", msgId);
    headers.set("Nats-Expected-Stream", this.stream);
    return new Promise<void>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, dueAt: performance.now() + this.timeoutMs, subject });
      try {
        this.connection.publish(subject, data, { headers, reply: `${this.inbox}.${token}` });
      } catch (err) {
        this.pending.delete(token);
        reject(err);
        return;
      }
      this.sweeper ??= setInterval(() => this.sweep(), Math.max(10, Math.min(250, this.timeoutMs / 4)));
    });
  }

  /** Fails every publish still waiting (the connection is closing). */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const [token, ack] of this.pending) {
      this.pending.delete(token);
      ack.reject(new Error(`the NATS connection closed before JetStream acknowledged a publish on ${ack.subject}`));
    }
    this.stopSweeping();
  }

  private answered(err: Error | null, msg: Msg | undefined) {
    const token = msg?.subject.slice(this.inbox.length + 1);
    const ack = token === undefined ? undefined : this.pending.get(token);
    if (!ack || !msg) return;
    this.pending.delete(token!);
    if (this.pending.size === 0) this.stopSweeping();
    if (err) return ack.reject(err);
    // The server's own status instead of a stream's answer: nothing stores this subject.
    if (msg.data.length === 0 && msg.headers?.code === 503)
      return ack.reject(new Error(`no responders: JetStream is not enabled or no stream stores ${ack.subject}`));
    let answer: { stream?: string; error?: { code?: number; err_code?: number; description?: string } };
    try {
      answer = msg.json();
    } catch {
      return ack.reject(new Error(`JetStream answered a publish on ${ack.subject} with something other than JSON`));
    }
    if (answer.error) return ack.reject(new JetStreamPublishError(answer.error.description ?? "publish refused", answer.error.err_code));
    if (!answer.stream) return ack.reject(new Error(`JetStream answered a publish on ${ack.subject} without its stream`));
    ack.resolve();
  }

  private sweep() {
    const now = performance.now();
    for (const [token, ack] of this.pending) {
      if (ack.dueAt > now) break;
      this.pending.delete(token);
      ack.reject(new Error(`JetStream did not acknowledge a publish on ${ack.subject} within ${this.timeoutMs} ms (timeout)`));
    }
    if (this.pending.size === 0) this.stopSweeping();
  }

  private stopSweeping() {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

interface PendingAck {
  resolve: () => void;
  reject: (err: Error) => void;
  dueAt: number;
  subject: string;
}

/** The stream refused a publish (`err_code` is JetStream's: 10059 stream not found, 10060 another stream stores the subject). */
export class JetStreamPublishError extends Error {
  constructor(
    description: string,
    readonly errCode: number | undefined,
  ) {
    super(`JetStream refused the publish: ${description}`);
    this.name = "JetStreamPublishError";
  }
}
