import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { ConflictRecord, Page } from "../api/types.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatDateTime, formatDuration, relativeTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { href, navigate } from "../lib/router.js";
import { useApp, useLiveEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import { useStore } from "../state/store.js";

const STATUSES = ["open", "acknowledged", "resolved"] as const;
type Status = (typeof STATUSES)[number];
const PAGE_SIZE = 100;

interface List {
  state: "loading" | "ready" | "error";
  error?: string;
  items: ConflictRecord[];
  nextCursor: string | null;
}

export function ConflictsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const names = useNames();
  const resets = useStore(app.resets);
  const status: Status = (STATUSES as readonly string[]).includes(params.get("status") ?? "") ? (params.get("status") as Status) : "open";
  const [list, setList] = useState<List>({ state: "loading", items: [], nextCursor: null });
  const [attempt, setAttempt] = useState(0);
  const [now, setNow] = useState(Date.now());
  // undefined: loading; null: could not be read.
  const [counts, setCounts] = useState<Record<Status, number | null | undefined>>({
    open: undefined,
    acknowledged: undefined,
    resolved: undefined,
  });
  const listRef = useRef(list);
  listRef.current = list;

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    let cancelled = false;
    setList({ state: "loading", items: [], nextCursor: null });
    api<Page<ConflictRecord>>(withQuery("/v1/conflicts", { status, limit: PAGE_SIZE }))
      .then((page) => {
        if (cancelled) return;
        markDataArrived("conflicts");
        setList({ state: "ready", items: page.items, nextCursor: page.nextCursor });
      })
      .catch((err: unknown) => !cancelled && setList({ state: "error", error: errorMessage(err), items: [], nextCursor: null }));
    return () => {
      cancelled = true;
    };
  }, [status, resets, attempt]);

  // Tab counts: the overview has open/acknowledged for leads; otherwise count what we can see.
  useEffect(() => {
    let cancelled = false;
    const count = (s: Status) =>
      api<Page<ConflictRecord>>(withQuery("/v1/conflicts", { status: s, limit: 500 })).then((p) => (p.nextCursor ? 500 : p.items.length));
    Promise.all(STATUSES.map((s) => count(s).catch(() => null))).then(([open, acknowledged, resolved]) => {
      if (!cancelled) setCounts({ open: open ?? null, acknowledged: acknowledged ?? null, resolved: resolved ?? null });
    });
    return () => {
      cancelled = true;
    };
  }, [resets, attempt]);

  useLiveEvents((events) => {
    const updates = new Map<string, Partial<ConflictRecord> & { id: string }>();
    const added: ConflictRecord[] = [];
    const delta: Record<Status, number> = { open: 0, acknowledged: 0, resolved: 0 };
    for (const e of events) {
      const p = e.payload as Record<string, string | null>;
      if (e.type === "conflict.opened") {
        added.push({
          id: String(p.conflictId),
          repo: e.repo ?? "",
          kind: p.kind === "touch" ? "touch" : "claim",
          status: "open",
          sessionId: String(p.sessionId),
          userId: String(p.userId),
          claimId: p.claimId ?? null,
          pattern: p.pattern ?? null,
          otherSessionId: String(p.otherSessionId),
          otherUserId: String(p.otherUserId),
          otherClaimId: p.otherClaimId ?? null,
          otherPattern: p.otherPattern ?? null,
          witness: String(p.witness),
          openedEventId: String(p.detectedBy),
          openedAt: e.time,
          acknowledgedAt: null,
          resolvedAt: null,
          resolution: null,
        });
        delta.open++;
      } else if (e.type === "conflict.acknowledged") {
        updates.set(String(p.conflictId), { id: String(p.conflictId), status: "acknowledged", acknowledgedAt: e.time });
        delta.open--;
        delta.acknowledged++;
      } else if (e.type === "conflict.resolved") {
        const known = listRef.current.items.find((c) => c.id === p.conflictId);
        updates.set(String(p.conflictId), {
          id: String(p.conflictId),
          status: "resolved",
          resolvedAt: e.time,
          resolution: (p.resolution as ConflictRecord["resolution"]) ?? null,
        });
        if (known?.status === "acknowledged") delta.acknowledged--;
        else delta.open--;
        delta.resolved++;
      }
    }
    if (added.length === 0 && updates.size === 0) return;
    const add = (n: number | null | undefined, d: number) => (typeof n === "number" ? Math.max(0, n + d) : n);
    setCounts((c) => ({
      open: add(c.open, delta.open),
      acknowledged: add(c.acknowledged, delta.acknowledged),
      resolved: add(c.resolved, delta.resolved),
    }));
    setList((l) => {
      if (l.state !== "ready") return l;
      const seen = new Set(l.items.map((c) => c.id));
      let items = [...added.filter((c) => !seen.has(c.id)).reverse(), ...l.items].map((c) => {
        const u = updates.get(c.id);
        return u ? { ...c, ...u } : c;
      });
      // Updates for conflicts not in this list (opened earlier) arrive when they enter this tab's status.
      items = items.filter((c) => c.status === status);
      return { ...l, items };
    });
    // A conflict that moved into this tab but was not listed: read the page again.
    if ([...updates.values()].some((u) => u.status === status && !listRef.current.items.some((c) => c.id === u.id)))
      setAttempt((n) => n + 1);
  });

  useRenderedMark("conflicts", list.state === "ready", list.items);

  const loadMore = async () => {
    if (!list.nextCursor) return;
    try {
      const page = await api<Page<ConflictRecord>>(withQuery("/v1/conflicts", { status, limit: PAGE_SIZE, cursor: list.nextCursor }));
      setList((l) => ({ ...l, items: [...l.items, ...page.items], nextCursor: page.nextCursor }));
    } catch (err) {
      setList((l) => ({ ...l, error: errorMessage(err) }));
    }
  };

  const sorted = useMemo(() => list.items, [list.items]);

  return (
    <section aria-labelledby="conflicts-title" class="page">
      <div class="page-head">
        <h1 id="conflicts-title">Conflicts</h1>
        <p class="muted">
          {app.isLead ? "Every conflict in the organisation" : "Conflicts you are a party to"}: overlapping claims granted with a warning,
          and edits inside someone else's claim.
        </p>
      </div>
      <div class="segmented" role="group" aria-label="Status">
        {STATUSES.map((s) => (
          <a key={s} href={href("conflicts", { status: s })} aria-current={s === status ? "page" : undefined} class="segment">
            {s[0]!.toUpperCase() + s.slice(1)}{" "}
            <span class="badge">{counts[s] === undefined ? "…" : counts[s] === null ? "—" : counts[s] === 500 ? "500+" : counts[s]}</span>
          </a>
        ))}
      </div>
      {list.state === "loading" ? (
        <Loading what={`${status} conflicts`} />
      ) : list.state === "error" ? (
        <ErrorState title="Could not load the conflicts" message={list.error ?? "Unknown error"} onRetry={() => setAttempt((n) => n + 1)} />
      ) : sorted.length === 0 ? (
        <Empty title={`No ${status} conflicts.`}>
          {status === "open" ? "When two agents' claims or edits collide, the conflict appears here at once." : null}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table table-stack conflicts-table">
            <caption class="visually-hidden">{status} conflicts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">Parties</th>
                <th scope="col">Witness path</th>
                <th scope="col">Patterns</th>
                <th scope="col">Age</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((c) => (
                <tr key={c.id} data-conflict={c.id} class={`conflict-${c.status}`}>
                  <td class="mono" data-label="Repository">
                    <a
                      href={href("claims", { repo: c.repo })}
                      onClick={(e) => (
                        e.preventDefault(),
                        navigate("claims", { repo: c.repo, path: c.witness.split("/").slice(0, -1).join("/") || undefined })
                      )}
                    >
                      {c.repo}
                    </a>
                  </td>
                  <td data-label="Parties">
                    {names.session(c.sessionId)} <span aria-hidden="true">↔</span>
                    <span class="visually-hidden"> and </span> {names.session(c.otherSessionId)}
                    <div class="muted">{c.kind === "claim" ? "claim over claim" : "edit"}</div>
                  </td>
                  <td data-label="Witness">
                    <code class="witness-path">{c.witness}</code>
                  </td>
                  <td class="mono" data-label="Patterns">
                    {c.pattern ?? "edit"} / {c.otherPattern ?? "edit"}
                  </td>
                  <td data-label="Age">
                    <time dateTime={c.openedAt} title={`opened ${formatDateTime(c.openedAt)}`}>
                      {formatDuration(Math.max(0, (c.resolvedAt ? Date.parse(c.resolvedAt) : now) - Date.parse(c.openedAt)))}
                    </time>
                    <div class="muted">opened {relativeTime(c.openedAt, now)}</div>
                  </td>
                  <td data-label="State">
                    <span class={`status status-${c.status}`}>{c.status}</span>
                    {c.resolution ? <div class="muted">{c.resolution.replace(/_/g, " ")}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.nextCursor ? (
            <button type="button" class="button" onClick={() => void loadMore()}>
              Load more
            </button>
          ) : null}
        </div>
      )}
    </section>
  );
}
