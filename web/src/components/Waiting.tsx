import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorMessage, readAll, withQuery } from "../api/client.js";
import type { Page, QueueEntry } from "../api/types.js";
import { formatDateTime, relativeTime } from "../lib/format.js";
import { sessionHref } from "../lib/links.js";
import { useApp, useLiveEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import { throttle, useStore } from "../state/store.js";

/** Entries read at most: a queue this long is a problem to see whole on the Activity page. */
const MAX_ENTRIES = 2_000;
/** Events after which who waits, and where, may have changed. */
const QUEUE_EVENTS = /^claim\.(queued|queue_left|queue_waiting)$/;
/**
 * Claims coming and going change who waits only when someone waits: with an empty queue they
 * are not read for (100 grants and releases a second in a busy repository each read the queue).
 */
const HOLDER_EVENTS = /^claim\.(granted|released|expired|broken)$/;

export interface QueueState {
  state: "loading" | "ready" | "error";
  error?: string;
  items: QueueEntry[];
}

/**
 * Waiting queue entries, kept live: a lead or an admin reads the organisation's queue with the
 * given filters (user, team, session, repo); anyone else reads their own entries (only repo and
 * session filter those) and `keep` narrows them. Queue and claim events read it again.
 */
export function useQueue(filter: Record<string, string>, keep?: (e: QueueEntry) => boolean): QueueState {
  const app = useApp();
  const resets = useStore(app.resets);
  const [data, setData] = useState<QueueState>({ state: "loading", items: [] });
  const [version, setVersion] = useState(0);
  const key = JSON.stringify(filter);
  const reload = useMemo(() => throttle(() => setVersion((n) => n + 1), 300), []);
  useEffect(() => () => reload.cancel(), [reload]);

  useEffect(() => {
    let cancelled = false;
    const read = app.isLead
      ? readAll<QueueEntry>("/v1/claims/queue", { scope: "organisation", limit: 500, ...filter }, { max: MAX_ENTRIES }).then((r) => r.items)
      : api<Page<QueueEntry>>(withQuery("/v1/claims/queue", { limit: 500, ...(filter.repo ? { repo: filter.repo } : {}) })).then(
          (p) => p.items,
        );
    read
      .then((items) => !cancelled && setData({ state: "ready", items: keep && !app.isLead ? items.filter(keep) : items }))
      .catch((err: unknown) => !cancelled && setData({ state: "error", error: errorMessage(err), items: [] }));
    return () => {
      cancelled = true;
    };
  }, [key, resets, version, app.isLead]);

  const waiting = data.items.length > 0;
  useLiveEvents((events) => {
    const matters = (type: string) => QUEUE_EVENTS.test(type) || (waiting && HOLDER_EVENTS.test(type));
    if (events.some((e) => matters(e.type) && (!filter.repo || e.repo === filter.repo))) reload();
  });
  return data;
}

/** Queue entries as a list: who waits (linked), for what, in which position, since when. */
export function WaitingList({ entries, empty, showRepo = false }: { entries: QueueEntry[]; empty: string; showRepo?: boolean }) {
  const names = useNames();
  if (entries.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="entity-list waiting-list">
      {entries.map((e) => (
        <li key={e.id} data-queue-entry={e.id}>
          <span class="tag">#{e.position ?? "–"} in line</span> <a href={sessionHref(e.sessionId)}>{names.session(e.sessionId)}</a> waits
          for{" "}
          {e.patterns.map((p) => (
            <code key={p} class="pattern">
              {p}{" "}
            </code>
          ))}
          <span class="muted">
            ({e.mode}){showRepo ? ` in ${e.repo}` : ""} · since{" "}
            <time dateTime={e.createdAt} title={formatDateTime(e.createdAt)}>
              {relativeTime(e.createdAt)}
            </time>
            {e.waitingFor.length > 0 ? ` · blocked by ${e.waitingFor.map((b) => b.holderName).join(", ")}` : " · behind earlier waiters"}
            {e.reason ? ` · ${e.reason}` : ""}
          </span>
        </li>
      ))}
    </ul>
  );
}
