import postgres from "postgres";
import t from "tap";
import { overlap } from "../../../src/patterns/index.js";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";
import { sleep } from "../../helpers/wait.js";

// Linearizability of claim queues across two server processes: many sessions queue on
// overlapping areas while holders release and let claims expire, every request on a random
// replica. Checked afterwards against the repo's event log, whose order (seq, drawn under the
// repo's lock) is the order in which the changes happened:
// - every grant is exclusive: no claim of another session overlapping it was still live;
// - every grant from the queue is FIFO: no earlier waiter overlapping it was still waiting;
// - nothing waits forever: every queued request ends granted, within a bound;
// - every grant from the queue alerted its waiter.
const repoKey = "github.com/acme/queue-race";

t.test(
  "when many sessions on two server processes queue for overlapping areas, then grants are exclusive, FIFO and all come",
  async (t) => {
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("PostgreSQL is not reachable here; skipped");
      return;
    }
    t.teardown(() => backends.dropDatabase());
    const root = "queue-race-root-token-0123456789abcdef";
    const env = {
      DATABASE_URL: backends.databaseUrl,
      ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
      BRIGADE_BOOTSTRAP_TOKEN: root,
      CLAIM_TTL_MIN_SECONDS: "1",
      SWEEP_INTERVAL_MS: "200",
    };
    const servers = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
    const pick = () => servers[Math.floor(Math.random() * servers.length)]!.url;

    const workers = 10;
    const rounds = 5;
    const sessions: { id: string; token: string }[] = [];
    for (let i = 0; i < workers; i++) {
      const res = await http(`${servers[i % 2]!.url}/v1/sessions`, root, "POST", {
        agent: { name: `waiter-${i}` },
        repo: repoKey,
        ttlSeconds: 600,
      });
      sessions.push({ id: res.body.session.id, token: res.body.token });
    }
    // Two families: every pair within one overlaps, no pattern of one overlaps the other's.
    const families = [
      ["q/**", "q/a.ts", "q/*.ts", "q/a*", "q/"],
      ["r/**", "r/b/*", "r/b/c.ts"],
    ];
    const WAIT_BOUND_MS = 90_000;
    let queued = 0;
    let waitedTooLong = 0;
    const unexpected: string[] = [];

    const work = async (i: number) => {
      const s = sessions[i]!;
      for (let round = 0; round < rounds; round++) {
        const family = families[(i + round) % 3 === 0 ? 1 : 0]!;
        const pattern = family[(i * 7 + round) % family.length]!;
        // A third of the grants are left to expire (a one-second lease), the rest released.
        const expire = (i + round) % 3 === 1;
        const res = await http(`${pick()}/v1/claims`, s.token, "POST", {
          patterns: [pattern],
          ttlSeconds: expire ? 1 : 60,
          onConflict: "queue",
          maxWaitSeconds: 600,
          sameDeveloper: "block",
        });
        let claimId: string;
        if (res.status === 201) claimId = res.body.id;
        else if (res.status === 202) {
          queued++;
          const started = Date.now();
          let entry = res.body;
          while (entry.status === "waiting" && Date.now() - started < WAIT_BOUND_MS) {
            await sleep(50);
            entry = (await http(`${pick()}/v1/claims/queue/${res.body.id}`, s.token)).body;
          }
          if (entry.status !== "granted") {
            waitedTooLong++;
            return;
          }
          claimId = entry.grantedClaimId;
        } else {
          unexpected.push(`${res.status} ${JSON.stringify(res.body)}`);
          return;
        }
        if (!expire) {
          await sleep(20 + Math.random() * 80);
          const released = await http(`${pick()}/v1/claims/${claimId}`, s.token, "DELETE");
          if (released.status !== 200) unexpected.push(`release ${released.status}`);
        }
      }
    };
    const started = Date.now();
    await Promise.all(sessions.map((_, i) => work(i)));
    t.comment(`${workers} sessions × ${rounds} rounds on 2 processes: ${queued} queued, ${Date.now() - started} ms`);
    t.same(unexpected, [], "every request was granted (201) or queued (202)");
    t.equal(waitedTooLong, 0, "every queued request was granted within the bound");
    t.ok(queued >= workers, "the run queued requests");

    // Let the last one-second leases run out before reading the log.
    await sleep(1_500);
    const sql = postgres(backends.databaseUrl, { max: 1, onnotice: () => {} });
    t.teardown(() => sql.end());
    const events = await sql<{ seq: string; type: string; payload: any }[]>`
    select seq, type, payload from events where repo = ${repoKey} order by seq`;
    const claimRows = await sql<{ id: string; granted_at: Date; expires_at: Date; session_id: string; patterns: string[] }[]>`
    select id, granted_at, expires_at, session_id, patterns from claims where repo = ${repoKey}`;
    const claims = new Map(claimRows.map((c) => [c.id, c]));
    const overlaps = (a: string[], b: string[]) => a.some((p) => b.some((q) => overlap(p, q) !== null));

    const live = new Map<string, (typeof claimRows)[number]>();
    const waiting = new Map<string, { sessionId: string; patterns: string[] }>();
    let exclusivity = 0;
    let fifo = 0;
    let grants = 0;
    let fromQueue = 0;
    for (const e of events) {
      const p = e.payload;
      if (e.type === "claim.granted") {
        grants++;
        const c = claims.get(p.claimId)!;
        for (const other of live.values()) {
          // Live by the server's rule: not ended, and its lease not yet run out at this grant's clock.
          if (other.session_id !== c.session_id && other.expires_at > c.granted_at && overlaps(other.patterns, c.patterns)) exclusivity++;
        }
        live.set(c.id, c);
        if (p.queueEntryId) {
          fromQueue++;
          for (const [id, w] of waiting) {
            if (id === p.queueEntryId) break; // Map keeps queue order: only earlier entries count
            if (w.sessionId !== p.sessionId && overlaps(w.patterns, p.patterns)) fifo++;
          }
          waiting.delete(p.queueEntryId);
        }
      } else if (e.type === "claim.released" || e.type === "claim.expired" || e.type === "claim.broken") {
        live.delete(p.claimId);
      } else if (e.type === "claim.queued") {
        waiting.set(p.entryId, { sessionId: p.sessionId, patterns: p.patterns });
      } else if (e.type === "claim.queue_left") {
        waiting.delete(p.entryId);
      }
    }
    t.equal(exclusivity, 0, "no grant overlapped another session's live claim");
    t.equal(fifo, 0, "no waiter was granted before an earlier overlapping one");
    t.equal(waiting.size, 0, "no entry is left waiting");
    t.equal(fromQueue, queued, "every queued request was granted from the queue");
    t.ok(grants >= workers * rounds, "every round ended in a grant");

    const fences = await sql<{ fence: string }[]>`select fence from claims where repo = ${repoKey} order by granted_at, fence`;
    t.equal(new Set(fences.map((f) => f.fence)).size, fences.length, "every grant has its own fence");

    const unalerted = await sql<{ n: string }[]>`
    select count(*) as n from events e
    where e.repo = ${repoKey} and e.type = 'claim.granted' and e.payload ? 'queueEntryId' and e.payload->>'queueEntryId' is not null
      and not exists (select 1 from alerts a where a.event_id = e.id and a.recipient_type = 'session' and a.recipient_id::text = e.payload->>'sessionId')`;
    t.equal(Number(unalerted[0]!.n), 0, "every waiter granted from the queue was alerted");
    for (const s of servers) t.equal(await s.stop(), 0);
  },
);
