import { and, eq, gt, lt, sql } from "drizzle-orm";
import { type Db, type Tx, transaction } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { streamSockets } from "./stream.table.js";

export interface SocketRegistryOptions {
  /** How often this replica says its sockets are still open. */
  heartbeatMs: number;
  /** A row not refreshed for this long belongs to a replica that died: it no longer counts. */
  staleMs: number;
}

type Log = { warn(obj: object, msg: string): void };

/**
 * The sockets a token holds on every replica, and their subscriptions, in the database the
 * replicas share, so that `socketsPerToken` and `subscriptionsPerToken` mean per token and not
 * per token and replica. A socket is
 * reserved before its upgrade (count and insert under a lock per token) and released when it
 * closes; a replica that dies without releasing leaves rows that go stale and stop counting.
 */
export class SocketRegistry {
  /** This process, as the owner of its rows. */
  readonly replica = newId();
  /** Reservations whose socket is open here: the heartbeat keeps only these fresh. */
  private readonly open = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Log,
    private readonly options: SocketRegistryOptions,
  ) {
    this.timer = setInterval(() => void this.heartbeat(), options.heartbeatMs);
    this.timer.unref();
  }

  /** A reservation id, or null when the token already holds `limit` live sockets. */
  async reserve(orgId: string, tokenKey: string, limit: number): Promise<string | null> {
    const id = newId();
    return transaction(this.db, async (tx) => {
      // Two upgrades of one token on two replicas at once: one counts after the other inserted.
      await this.lockToken(tx, orgId, tokenKey);
      const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(streamSockets).where(this.liveRowsOf(orgId, tokenKey));
      if ((held?.n ?? 0) >= limit) return null;
      await tx.insert(streamSockets).values({ id, orgId, tokenKey, replica: this.replica });
      return id;
    });
  }

  /**
   * One more subscription on the reserved socket, unless the token's live sockets (on every
   * replica) already hold `limit` subscriptions.
   */
  async takeSubscription(id: string, orgId: string, tokenKey: string, limit: number): Promise<boolean> {
    return transaction(this.db, async (tx) => {
      await this.lockToken(tx, orgId, tokenKey);
      const [held] = await tx
        .select({ n: sql<number>`coalesce(sum(${streamSockets.subscriptions}), 0)::int` })
        .from(streamSockets)
        .where(this.liveRowsOf(orgId, tokenKey));
      if ((held?.n ?? 0) >= limit) return false;
      const updated = await tx
        .update(streamSockets)
        .set({ subscriptions: sql`${streamSockets.subscriptions} + 1` })
        .where(eq(streamSockets.id, id))
        .returning({ id: streamSockets.id });
      return updated.length > 0;
    });
  }

  /** A subscription of the reserved socket ended. */
  giveSubscription(id: string): void {
    this.db
      .update(streamSockets)
      .set({ subscriptions: sql`greatest(${streamSockets.subscriptions} - 1, 0)` })
      .where(eq(streamSockets.id, id))
      .catch((err: unknown) => this.log.warn({ err }, "could not count a stream subscription's end; it is freed when its socket closes"));
  }

  private lockToken(tx: Tx, orgId: string, tokenKey: string) {
    return tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${orgId}/${tokenKey}`}, 16))`);
  }

  private liveRowsOf(orgId: string, tokenKey: string) {
    const fresh = sql`now() - make_interval(secs => ${this.options.staleMs / 1000})`;
    return and(eq(streamSockets.orgId, orgId), eq(streamSockets.tokenKey, tokenKey), gt(streamSockets.seenAt, fresh));
  }

  /**
   * The reserved socket is open. Until then its row is not refreshed: a reservation whose
   * upgrade never completed stops counting once stale, whatever went wrong.
   */
  opened(id: string): void {
    this.open.add(id);
  }

  /** The socket closed (or its upgrade never happened). */
  release(id: string): void {
    this.open.delete(id);
    this.db
      .delete(streamSockets)
      .where(eq(streamSockets.id, id))
      .catch((err: unknown) => this.log.warn({ err }, "could not release a stream socket's reservation; it expires when stale"));
  }

  /** Refreshes this replica's rows and sweeps the stale rows of replicas that died. */
  async heartbeat(): Promise<void> {
    try {
      if (this.open.size > 0)
        await this.db
          .update(streamSockets)
          .set({ seenAt: sql`now()` })
          // One array parameter: a bare JS array would be spread into a list of parameters.
          .where(sql`${streamSockets.id} = any(${sql.param([...this.open])}::uuid[])`);
      await this.db
        .delete(streamSockets)
        .where(lt(streamSockets.seenAt, sql`now() - make_interval(secs => ${(2 * this.options.staleMs) / 1000})`));
    } catch (err) {
      this.log.warn({ err }, "could not refresh this replica's stream sockets; retrying at the next heartbeat");
    }
  }

  /** This replica stops: its sockets are closed, their rows go now. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.open.clear();
    await this.db
      .delete(streamSockets)
      .where(eq(streamSockets.replica, this.replica))
      .catch((err: unknown) => this.log.warn({ err }, "could not remove this replica's stream sockets; they expire when stale"));
  }
}
