import { memo } from "preact/compat";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { BrigadeEvent, Page } from "../api/types.js";
import { RepoLink } from "../components/links.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { TimeRangePicker, useTimeRange } from "../components/TimeRangePicker.js";
import { actorOf, describeEvent, EVENT_GROUPS, eventTone, type Names } from "../lib/describe.js";
import { formatDateTime, formatTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { navigate } from "../lib/router.js";
import { rangeLabel, rangeStart, windowBounds, windowOf, windowParams } from "../lib/time-range.js";
import { useApp, useDirectory } from "../state/app.js";
import { useNames } from "../state/names.js";
import { useStore } from "../state/store.js";

const PAGE_SIZE = 100;
/** Live events beyond this drop off the bottom ("load older" brings them back). */
const MAX_SHOWN = 1_000;

interface Filters {
  team: string;
  user: string;
  repo: string;
  type: string;
}

interface Feed {
  state: "loading" | "ready" | "error";
  error?: string;
  items: BrigadeEvent[];
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError?: string;
}

/**
 * Where an event happened: its repository (to its page and the code host), the branch a
 * session started on and the witness path of a conflict (to the code host).
 */
function EventWhere({ event }: { event: BrigadeEvent }) {
  if (!event.repo) return null;
  const p = event.payload as { branch?: unknown; witness?: unknown };
  return (
    <>
      {" · "}
      <RepoLink repo={event.repo} />
      {typeof p.branch === "string" && p.branch ? (
        <>
          {" · "}
          <RepoLink repo={event.repo} branch={p.branch} />
        </>
      ) : null}
      {typeof p.witness === "string" && p.witness ? (
        <>
          {" · "}
          <RepoLink repo={event.repo} path={p.witness} />
        </>
      ) : null}
    </>
  );
}

const bySeqDesc = (a: BrigadeEvent, b: BrigadeEvent) => b.seq - a.seq;

function mergeNewest(current: BrigadeEvent[], incoming: BrigadeEvent[]): { items: BrigadeEvent[]; dropped: boolean } {
  const seen = new Set(current.map((e) => e.id));
  const fresh = incoming.filter((e) => !seen.has(e.id));
  if (fresh.length === 0) return { items: current, dropped: false };
  const items = [...fresh.sort(bySeqDesc), ...current];
  if (items.length <= MAX_SHOWN) return { items, dropped: false };
  return { items: items.slice(0, MAX_SHOWN), dropped: true };
}

/** Consecutive events this alike (type, actor, session, reason) fold into one line from this many. */
const RUN_MIN = 3;

type FeedEntry = { kind: "one"; event: BrigadeEvent } | { kind: "run"; key: string; events: BrigadeEvent[] };

function runKey(e: BrigadeEvent): string {
  const p = e.payload as { sessionId?: unknown; reason?: unknown };
  return JSON.stringify([e.type, e.actor, e.repo, p.sessionId ?? null, typeof p.reason === "string" ? p.reason : null]);
}

/**
 * Folds runs of alike events ("40 claims released when a session ended") into one entry: the
 * feed stays readable when one action fans out into many events.
 */
export function collapseRuns(items: BrigadeEvent[]): FeedEntry[] {
  const out: FeedEntry[] = [];
  let i = 0;
  while (i < items.length) {
    const key = runKey(items[i]!);
    let j = i + 1;
    while (j < items.length && runKey(items[j]!) === key) j++;
    if (j - i >= RUN_MIN) out.push({ kind: "run", key: items[i]!.id, events: items.slice(i, j) });
    else for (let k = i; k < j; k++) out.push({ kind: "one", event: items[k]! });
    i = j;
  }
  return out;
}

function EventRun({ events, names }: { events: BrigadeEvent[]; names: Names }) {
  const [open, setOpen] = useState(false);
  const first = events[0]!;
  const last = events[events.length - 1]!;
  return (
    <li class={`feed-item feed-run tone-${eventTone(first.type)}`} data-event-type={first.type} data-run-size={events.length}>
      <time dateTime={first.time} title={`${formatDateTime(last.time)} – ${formatDateTime(first.time)}`} class="feed-time">
        {formatTime(first.time)}
      </time>
      <span class="tag feed-type">
        {events.length} × {first.type}
      </span>
      <span class="feed-text">
        {describeEvent(first, names)} <span class="muted">and {events.length - 1} more like it</span>{" "}
        <button type="button" class="button button-small button-quiet" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "Hide" : `Show all ${events.length}`}
        </button>
      </span>
      <span class="feed-meta muted">
        {actorOf(first, names)}
        <EventWhere event={first} />
      </span>
      {open ? (
        <ol class="feed feed-run-items" aria-label={`${events.length} ${first.type} events`}>
          {events.map((e) => (
            <EventRow key={e.id} event={e} names={names} />
          ))}
        </ol>
      ) : null}
    </li>
  );
}

const EventRow = memo(function EventRow({ event, names }: { event: BrigadeEvent; names: Names }) {
  return (
    <li class={`feed-item tone-${eventTone(event.type)}`} data-event-type={event.type}>
      <time dateTime={event.time} title={formatDateTime(event.time)} class="feed-time">
        {formatTime(event.time)}
      </time>
      <span class="tag feed-type">{event.type}</span>
      <span class="feed-text">{describeEvent(event, names)}</span>
      <span class="feed-meta muted">
        {actorOf(event, names)}
        <EventWhere event={event} />
      </span>
    </li>
  );
});

export function ActivityPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const names = useNames();
  const sessions = useStore(app.sessions);
  const resets = useStore(app.resets);
  const filters: Filters = {
    team: params.get("team") ?? "",
    user: params.get("user") ?? "",
    repo: params.get("repo") ?? "",
    type: params.get("type") ?? "",
  };
  const range = useTimeRange(params);
  // A window of time (a chart's point opened here) wins over the range.
  const fromParam = params.get("from") ?? "";
  const toParam = params.get("to") ?? "";
  const timeWindow = useMemo(() => windowOf(new URLSearchParams({ from: fromParam, to: toParam })), [fromParam, toParam]);
  const bounds = timeWindow ? windowBounds(timeWindow) : null;
  // The range's start, fixed when it is chosen: live events are always within it.
  const since = useMemo(() => rangeStart(range), [range]);
  const after = bounds ? bounds.after : since;
  const before = bounds?.before;
  const filterKey = JSON.stringify(filters);
  const [feed, setFeed] = useState<Feed>({ state: "loading", items: [], hasOlder: false, loadingOlder: false });
  const [paused, setPaused] = useState(false);
  const held = useRef<BrigadeEvent[]>([]);
  const [heldCount, setHeldCount] = useState(0);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    let snapshotDone = false;
    let early: BrigadeEvent[] = [];
    held.current = [];
    setHeldCount(0);
    setFeed({ state: "loading", items: [], hasOlder: false, loadingOlder: false });
    const filter = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
    const receive = (all: BrigadeEvent[]) => {
      // A window that has ended takes no live events; one up to a time to come, those before it.
      const events = before ? all.filter((e) => e.time < before) : all;
      if (events.length === 0) return;
      if (!snapshotDone) {
        early.push(...events);
        return;
      }
      if (pausedRef.current) {
        held.current.push(...events);
        setHeldCount(held.current.length);
        return;
      }
      setFeed((f) => {
        const merged = mergeNewest(f.items, events);
        return merged.items === f.items ? f : { ...f, items: merged.items, hasOlder: f.hasOlder || merged.dropped };
      });
    };
    // The newest page and the live subscription start together; the page may be read before the
    // subscription is in place on the server, so once it is, what came after the page is read
    // too. Duplicates merge by id.
    const snapshot = api<Page<BrigadeEvent>>(withQuery("/v1/events", { ...filter, after, before, order: "desc", limit: PAGE_SIZE }));
    const unsubscribe = app.stream.subscribe(
      "feed",
      { topic: "events", filter },
      {
        onEvents: receive,
        onLive: () => {
          snapshot
            .then(async (page) => {
              const since = await api<Page<BrigadeEvent>>(
                withQuery("/v1/events", { ...filter, after: page.items[0]?.id ?? after, before, order: "asc", limit: PAGE_SIZE }),
              );
              if (!cancelled) receive(since.items);
            })
            // The snapshot's own failure is shown below; a failed catch-up read leaves the feed as it was.
            .catch(() => {});
        },
        onReset: () => setAttempt((n) => n + 1),
        onError: (_code, message) => setFeed((f) => ({ ...f, state: "error", error: message })),
      },
    );
    snapshot
      .then((page) => {
        if (cancelled) return;
        snapshotDone = true;
        const merged = mergeNewest(page.items, early);
        early = [];
        markDataArrived("activity");
        setFeed({ state: "ready", items: merged.items, hasOlder: page.nextCursor !== null || merged.dropped, loadingOlder: false });
      })
      .catch((err: unknown) => {
        if (cancelled) return;
        setFeed({ state: "error", error: errorMessage(err), items: [], hasOlder: false, loadingOlder: false });
      });
    return () => {
      cancelled = true;
      unsubscribe();
    };
    // filterKey stands for the filters.
  }, [app.stream, filterKey, after, before, resets, attempt]);

  useRenderedMark("activity", feed.state === "ready", feed.items);
  const entries = useMemo(() => collapseRuns(feed.items), [feed.items]);

  const loadOlder = async () => {
    const oldest = feed.items[feed.items.length - 1];
    if (!oldest) return;
    setFeed((f) => ({ ...f, loadingOlder: true, olderError: undefined }));
    try {
      const filter = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
      const page = await api<Page<BrigadeEvent>>(
        // Older than the oldest shown (so within the window's end), from the window's or range's start.
        withQuery("/v1/events", { ...filter, after, order: "desc", before: oldest.id, limit: PAGE_SIZE }),
      );
      setFeed((f) => {
        const seen = new Set(f.items.map((e) => e.id));
        return {
          ...f,
          loadingOlder: false,
          items: [...f.items, ...page.items.filter((e) => !seen.has(e.id))],
          hasOlder: page.nextCursor !== null,
        };
      });
    } catch (err) {
      setFeed((f) => ({ ...f, loadingOlder: false, olderError: errorMessage(err) }));
    }
  };

  const showHeld = () => {
    const events = held.current;
    held.current = [];
    setHeldCount(0);
    setFeed((f) => ({ ...f, items: mergeNewest(f.items, events).items }));
  };

  const kept = timeWindow ? windowParams(timeWindow) : {};
  const setFilter = (key: keyof Filters, value: string) => {
    const next = { ...filters, [key]: value };
    navigate("activity", { ...next, range: range || undefined, ...kept }, true);
  };
  const windowText = timeWindow
    ? `from ${formatDateTime(new Date(timeWindow.from).toISOString())}${timeWindow.to === null ? " to now" : ` to ${formatDateTime(new Date(timeWindow.to).toISOString())}`}`
    : "";

  const repos = useMemo(() => [...new Set([...sessions.byId.values()].map((s) => s.repo))].sort(), [sessions]);
  const users = useMemo(() => [...directory.users.values()].sort((a, b) => a.name.localeCompare(b.name)), [directory]);
  const filtered = Object.values(filters).some(Boolean);

  return (
    <section aria-labelledby="activity-title" class="page">
      <div class="page-head">
        <h1 id="activity-title">Activity</h1>
        <p class="muted">Every change in the organisation, newest first, as it happens.</p>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the feed">
        <div class="field">
          <label for="f-team">Team</label>
          <select id="f-team" value={filters.team} onChange={(e) => setFilter("team", (e.target as HTMLSelectElement).value)}>
            <option value="">All teams</option>
            {directory.teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-user">Developer</label>
          <select id="f-user" value={filters.user} onChange={(e) => setFilter("user", (e.target as HTMLSelectElement).value)}>
            <option value="">Everyone</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.displayName || u.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-repo">Repository</label>
          <input
            id="f-repo"
            list="f-repos"
            value={filters.repo}
            placeholder="github.com/acme/api"
            onChange={(e) => setFilter("repo", (e.target as HTMLInputElement).value.trim())}
          />
          <datalist id="f-repos">
            {repos.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="f-type">Type</label>
          <select id="f-type" value={filters.type} onChange={(e) => setFilter("type", (e.target as HTMLSelectElement).value)}>
            <option value="">All types</option>
            {/* An exact type (a chart's point opens one) is offered as itself. */}
            {filters.type && !(EVENT_GROUPS as readonly string[]).includes(filters.type) ? (
              <option value={filters.type}>{filters.type}</option>
            ) : null}
            {EVENT_GROUPS.map((g) => (
              <option key={g} value={g}>
                {g}*
              </option>
            ))}
          </select>
        </div>
        {/* Choosing a range leaves a chart's window for it. */}
        <TimeRangePicker value={range} onChange={(next) => navigate("activity", { ...filters, range: next || undefined }, true)} />
        <div class="field field-actions">
          <button
            type="button"
            class="button"
            aria-pressed={paused}
            onClick={() => (paused ? (setPaused(false), showHeld()) : setPaused(true))}
          >
            {paused ? "Resume live" : "Pause live"}
          </button>
          {filtered ? (
            <button
              type="button"
              class="button button-quiet"
              onClick={() => navigate("activity", { range: range || undefined, ...kept }, true)}
            >
              Clear filters
            </button>
          ) : null}
        </div>
      </form>
      {timeWindow ? (
        <p class="chip activity-window" data-testid="activity-window">
          Events {windowText}{" "}
          <button
            type="button"
            class="button button-small button-quiet"
            onClick={() => navigate("activity", { ...filters, range: range || undefined }, true)}
          >
            {range ? `Show the ${rangeLabel(range)}` : "Show all times"}
            <span class="visually-hidden"> instead of this window</span>
          </button>
        </p>
      ) : null}

      {heldCount > 0 ? (
        <button type="button" class="button held" onClick={showHeld}>
          Show {heldCount} new event{heldCount === 1 ? "" : "s"}
        </button>
      ) : null}

      {feed.state === "loading" ? (
        <Loading what="the activity feed" />
      ) : feed.state === "error" ? (
        <ErrorState
          title="Could not load the activity feed"
          message={feed.error ?? "Unknown error"}
          onRetry={() => setAttempt((n) => n + 1)}
        />
      ) : feed.items.length === 0 ? (
        <Empty
          title={
            filtered
              ? "No events match these filters yet."
              : timeWindow
                ? `Nothing happened ${windowText}.`
                : range
                  ? `Nothing happened in the ${rangeLabel(range)}.`
                  : "Nothing has happened yet."
          }
        >
          New events appear here live.
        </Empty>
      ) : (
        <>
          <ol class="feed" aria-label="Events, newest first">
            {entries.map((entry) =>
              entry.kind === "one" ? (
                <EventRow key={entry.event.id} event={entry.event} names={names} />
              ) : (
                <EventRun key={entry.key} events={entry.events} names={names} />
              ),
            )}
          </ol>
          <div class="feed-foot">
            {feed.olderError ? (
              <p class="form-error" role="alert">
                Could not load older events: {feed.olderError}
              </p>
            ) : null}
            {feed.hasOlder ? (
              <button type="button" class="button" onClick={() => void loadOlder()} disabled={feed.loadingOlder}>
                {feed.loadingOlder ? "Loading…" : "Load older"}
              </button>
            ) : (
              <p class="muted">
                {timeWindow
                  ? `That is all ${windowText}`
                  : range
                    ? `That is all of the ${rangeLabel(range)}`
                    : "That is the beginning of the log"}
                {filtered ? " for these filters" : ""}.
              </p>
            )}
          </div>
        </>
      )}
    </section>
  );
}
