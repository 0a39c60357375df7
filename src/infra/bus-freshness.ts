import type { Bus, BusHandler } from "./bus.js";

/**
 * Whether state kept fresh by the bus's events may be served from memory: only while the bus is
 * connected and this process's subscriptions are confirmed (a round trip after they were sent).
 * Core NATS never redelivers what was published while the connection was down, so each
 * connection change stops serving and calls `reset` (the owner drops what it holds); once the
 * bus is back and confirmed, `reset` runs once more (a read made before the subscriptions were in
 * place may have missed an event) and serving resumes. The principal cache keeps the same rule
 * (identity/principal-cache.ts).
 */
export class BusFreshness {
  /** Bumped by every connection change, so a resume that raced a newer change gives up. */
  private epoch = 0;
  private confirmed = false;
  private closed = false;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly reset: () => void,
    private readonly log: { warn(details: object, message: string): void },
  ) {}

  /** Subscribes `handlers` (subject → handler); serving starts once the bus confirms them. */
  start(handlers: Record<string, BusHandler>): void {
    if (this.closed || this.stops.length > 0) return;
    for (const [subject, handler] of Object.entries(handlers)) this.stops.push(this.bus.subscribe(subject, handler));
    this.stops.push(this.bus.onConnectionChange((connected) => this.changed(connected)));
    void this.resume();
  }

  /** True while what the events keep fresh may be served without asking the database. */
  get serving(): boolean {
    return this.confirmed && this.bus.connected;
  }

  close(): void {
    this.closed = true;
    this.confirmed = false;
    for (const stop of this.stops.splice(0)) stop();
    this.reset();
  }

  private changed(connected: boolean): void {
    this.epoch++;
    this.confirmed = false;
    this.reset();
    if (connected) void this.resume();
  }

  private async resume(): Promise<void> {
    const epoch = this.epoch;
    try {
      await this.bus.ping();
    } catch (err) {
      // Disconnected meanwhile: the reconnect resumes.
      if (epoch === this.epoch && !this.closed) this.log.warn({ err }, "bus ping failed; not serving from memory until the bus reconnects");
      return;
    }
    if (epoch !== this.epoch || this.closed || !this.bus.connected) return;
    this.reset();
    this.confirmed = true;
  }
}
