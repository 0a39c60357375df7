import { OverlapBadge } from "../components/OverlapBadge.js";
import { Fragment } from "preact";
import { memo } from "preact/compat";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { ConflictRecord, Message, Page } from "../api/types.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatDateTime, formatDuration, plural, relativeTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { RepoLink } from "../components/links.js";
import { passesSame, SAME_FILTERS, SameDeveloperMark, type SameFilter, sameFilterOf } from "../components/SameDeveloper.js";
import { ThreadsAbout } from "../components/ThreadsAbout.js";
import { TimeRangePicker, useTimeRange } from "../components/TimeRangePicker.js";
import { rangeLabel, rangeStart } from "../lib/time-range.js";
import { developerHref, sessionHref } from "../lib/links.js";
import { href, navigate } from "../lib/router.js";
import { useApp, useDirectory, useLiveEvents, useMessageEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import type { Names } from "../lib/describe.js";
import { useStore } from "../state/store.js";

const STATUSES = ["open", "acknowledged", "resolved"] as const;
type Status = (typeof STATUSES)[number];
/**
 * Conflicts drawn per page, newest first ("Load more" for the next). A conflict's row is some
 * thirty elements (code-host links, overlap and same-developer marks, a threads button): a
 * hundred of them took most of the page's first draw in creating and laying out the table.
 */
const PAGE_SIZE = 50;
/** Messages about conflicts read to mark the conflicts that have a thread (the newest ones). */
const THREAD_MARKS = 200;

/** How many messages are about each conflict, among the newest the viewer may read. */
function useConflictThreads(): Map<string, number> {
  const app = useApp();
  const resets = useStore(app.resets);
  const [counts, setCounts] = useState<Map<string, number>>(new Map());
  const [reloadKey, setReloadKey] = useState(0);
  const reload = useMemo(() => () => setReloadKey((n) => n + 1), []);
  useMessageEvents(reload);
  useEffect(() => {
    let cancelled = false;
    api<Page<Message>>(withQuery("/v1/messages", { box: "all", aboutType: "conflict", limit: THREAD_MARKS }))
      .then((page) => {
        if (cancelled) return;
        const next = new Map<string, number>();
        for (const m of page.items) if (m.about) next.set(m.about.id, (next.get(m.about.id) ?? 0) + 1);
        setCounts(next);
      })
      .catch(() => {
        // The marks are a hint; each conflict's own thread view reads its threads itself.
      });
    return () => {
      cancelled = true;
    };
  }, [resets, reloadKey]);
  return counts;
}

interface List {
  state: "loading" | "ready" | "error";
  error?: string;
  items: ConflictRecord[];
  nextCursor: string | null;
}

const GROUPINGS = { none: "no grouping", cause: "by cause (one claim against many)", pair: "by pair of parties" } as const;
type Grouping = keyof typeof GROUPINGS;

export interface ConflictGroup {
  key: string;
  /** What the conflicts share: a claim (its pattern and holder session) or a pair of sessions. */
  kind: "claim" | "pair" | "single";
  claimId?: string;
  pattern?: string | null;
  sessionId?: string;
  sessions?: [string, string];
  items: ConflictRecord[];
}

/**
 * Groups conflicts by the claim they have in common: each conflict joins the one of its two
 * claims that is party to more conflicts in the list, so nine conflicts against one broad claim
 * make one group of nine. Edit conflicts without a claim on either side stand alone.
 */
export function groupByCause(items: ConflictRecord[]): ConflictGroup[] {
  const uses = new Map<string, number>();
  for (const c of items) for (const id of [c.claimId, c.otherClaimId]) if (id) uses.set(id, (uses.get(id) ?? 0) + 1);
  const groups = new Map<string, ConflictGroup>();
  for (const c of items) {
    const a = c.claimId ? (uses.get(c.claimId) ?? 0) : -1;
    const b = c.otherClaimId ? (uses.get(c.otherClaimId) ?? 0) : -1;
    const mine = a >= b && c.claimId;
    const claimId = mine ? c.claimId : c.otherClaimId;
    const key = claimId ? `claim:${claimId}` : `one:${c.id}`;
    let g = groups.get(key);
    if (!g) {
      g = claimId
        ? {
            key,
            kind: "claim",
            claimId,
            pattern: mine ? c.pattern : c.otherPattern,
            sessionId: mine ? c.sessionId : c.otherSessionId,
            items: [],
          }
        : { key, kind: "single", items: [] };
      groups.set(key, g);
    }
    g.items.push(c);
  }
  return [...groups.values()].sort((x, y) => y.items.length - x.items.length);
}

/** Groups conflicts by the two sessions they are between, whichever side raised them. */
export function groupByPair(items: ConflictRecord[]): ConflictGroup[] {
  const groups = new Map<string, ConflictGroup>();
  for (const c of items) {
    const pair = [c.sessionId, c.otherSessionId].sort() as [string, string];
    const key = pair.join("|");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, kind: "pair", sessions: pair, items: [] }));
    g.items.push(c);
  }
  return [...groups.values()].sort((x, y) => y.items.length - x.items.length);
}

const ConflictRow = memo(function ConflictRow({
  c,
  open,
  threads,
  names,
  now,
  onToggleThreads,
}: {
  c: ConflictRecord;
  open: boolean;
  threads: number;
  names: Names;
  now: number;
  onToggleThreads(id: string, open: boolean): void;
}) {
  return (
    <Fragment>
      <tr data-conflict={c.id} data-same-developer={c.sameDeveloper || undefined} class={`conflict-${c.status}`}>
        <td class="mono" data-label="Repository">
          <RepoLink repo={c.repo} />
          <div>
            <a
              href={href("claims", { repo: c.repo })}
              onClick={(e) => (
                e.preventDefault(), navigate("claims", { repo: c.repo, path: c.witness.split("/").slice(0, -1).join("/") || undefined })
              )}
            >
              on the claims map
            </a>
          </div>
        </td>
        <td data-label="Parties">
          <a href={sessionHref(c.sessionId)}>{names.session(c.sessionId)}</a> <span aria-hidden="true">↔</span>
          <span class="visually-hidden"> and </span> <a href={sessionHref(c.otherSessionId)}>{names.session(c.otherSessionId)}</a>
          <div class="muted">
            {c.kind === "claim" ? "claim over claim" : "edit"}
            {c.sameDeveloper ? <SameDeveloperMark /> : null}
          </div>
        </td>
        <td data-label="Witness">
          <RepoLink repo={c.repo} path={c.witness} />
          <OverlapBadge overlap={c.overlap} realCount={c.realCount} />
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
        <td data-label="Thread">
          <button
            type="button"
            class="button button-small button-quiet"
            aria-expanded={open}
            aria-controls={open ? `conflict-threads-${c.id}` : undefined}
            onClick={() => onToggleThreads(c.id, open)}
          >
            {threads ? plural(threads, "message") : "Threads"}
            <span class="visually-hidden"> about the conflict at {c.witness}</span>
          </button>
        </td>
      </tr>
      {open ? (
        <tr class="conflict-detail" id={`conflict-threads-${c.id}`}>
          <td colSpan={7}>
            <ThreadsAbout
              kind="conflict"
              id={c.id}
              to={[
                { sessionId: c.sessionId, label: `${names.session(c.sessionId)} (raised it)` },
                { sessionId: c.otherSessionId, label: names.session(c.otherSessionId) },
              ]}
            />
          </td>
        </tr>
      ) : null}
    </Fragment>
  );
});

export function ConflictsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const names = useNames();
  const directory = useDirectory();
  const resets = useStore(app.resets);
  const status: Status = (STATUSES as readonly string[]).includes(params.get("status") ?? "") ? (params.get("status") as Status) : "open";
  const repoFilter = params.get("repo") ?? "";
  const userFilter = params.get("user") ?? "";
  const teamFilter = params.get("team") ?? "";
  const sessionFilter = params.get("session") ?? "";
  const sameFilter = sameFilterOf(params);
  const grouping: Grouping = (params.get("group") ?? "") in GROUPINGS ? (params.get("group") as Grouping) : "none";
  // The conflict whose threads are open under its row (shareable, like the filters).
  const opened = params.get("conflict") ?? "";
  const threadCounts = useConflictThreads();
  const range = useTimeRange(params);
  // Conflicts opened since the range's start, fixed when it is chosen (live ones are within it).
  const since = useMemo(() => rangeStart(range), [range]);
  // The server filters by same developer too, so a page of 100 is 100 of those shown.
  const filters = {
    repo: repoFilter || undefined,
    user: userFilter || undefined,
    session: sessionFilter || undefined,
    since,
    sameDeveloper: sameFilter === "" ? undefined : sameFilter === "only",
  };
  const filterKey = JSON.stringify(filters);
  const setParams = (changes: Record<string, string | undefined>) =>
    navigate(
      "conflicts",
      {
        status: status === "open" ? undefined : status,
        repo: repoFilter || undefined,
        user: userFilter || undefined,
        team: teamFilter || undefined,
        session: sessionFilter || undefined,
        same: sameFilter || undefined,
        group: grouping === "none" ? undefined : grouping,
        range: range || undefined,
        conflict: opened || undefined,
        ...changes,
      },
      true,
    );
  const teamMembers = useMemo(
    () => (teamFilter ? new Set(directory.teams.find((t) => t.id === teamFilter)?.members ?? []) : null),
    [teamFilter, directory],
  );
  const inView = (c: Pick<ConflictRecord, "repo" | "userId" | "otherUserId" | "sessionId" | "otherSessionId">) =>
    passesSame(sameFilter, { sameDeveloper: c.userId === c.otherUserId }) &&
    (!repoFilter || c.repo === repoFilter) &&
    (!userFilter || c.userId === userFilter || c.otherUserId === userFilter) &&
    (!sessionFilter || c.sessionId === sessionFilter || c.otherSessionId === sessionFilter) &&
    (!teamMembers || teamMembers.has(c.userId) || teamMembers.has(c.otherUserId));
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
    api<Page<ConflictRecord>>(withQuery("/v1/conflicts", { status, limit: PAGE_SIZE, ...filters }))
      .then((page) => {
        if (cancelled) return;
        markDataArrived("conflicts");
        setList({ state: "ready", items: page.items, nextCursor: page.nextCursor });
      })
      .catch((err: unknown) => !cancelled && setList({ state: "error", error: errorMessage(err), items: [], nextCursor: null }));
    return () => {
      cancelled = true;
    };
  }, [status, resets, attempt, filterKey]);

  // Tab counts: up to 500 conflicts of each status, read once the list is shown: three pages of
  // 500 arriving with the list of 100 were parsed and drawn before it.
  const listShown = list.state !== "loading";
  useEffect(() => {
    if (!listShown) return;
    let cancelled = false;
    const count = (s: Status) =>
      api<Page<ConflictRecord>>(withQuery("/v1/conflicts", { status: s, limit: 500, ...filters })).then((p) =>
        p.nextCursor ? 500 : p.items.filter(inView).length,
      );
    Promise.all(STATUSES.map((s) => count(s).catch(() => null))).then(([open, acknowledged, resolved]) => {
      if (!cancelled) setCounts({ open: open ?? null, acknowledged: acknowledged ?? null, resolved: resolved ?? null });
    });
    return () => {
      cancelled = true;
    };
  }, [resets, attempt, filterKey, teamMembers, listShown]);

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
          sameDeveloper: p.userId === p.otherUserId,
          otherClaimId: p.otherClaimId ?? null,
          otherPattern: p.otherPattern ?? null,
          witness: String(p.witness),
          overlap: p.overlap === "real" || p.overlap === "latent" ? p.overlap : null,
          realCount: null,
          examples: [],
          openedEventId: String(p.detectedBy),
          openedAt: e.time,
          acknowledgedAt: null,
          resolvedAt: null,
          resolution: null,
        });
        if (inView(added[added.length - 1]!)) delta.open++;
        else added.pop();
      } else if (e.type === "conflict.acknowledged") {
        if (!inView({ ...(p as unknown as ConflictRecord), repo: e.repo ?? "" })) continue;
        updates.set(String(p.conflictId), { id: String(p.conflictId), status: "acknowledged", acknowledgedAt: e.time });
        delta.open--;
        delta.acknowledged++;
      } else if (e.type === "conflict.resolved") {
        if (!inView({ ...(p as unknown as ConflictRecord), repo: e.repo ?? "" })) continue;
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
      const page = await api<Page<ConflictRecord>>(
        withQuery("/v1/conflicts", { status, limit: PAGE_SIZE, cursor: list.nextCursor, ...filters }),
      );
      setList((l) => ({ ...l, items: [...l.items, ...page.items], nextCursor: page.nextCursor }));
    } catch (err) {
      setList((l) => ({ ...l, error: errorMessage(err) }));
    }
  };

  const visible = useMemo(
    () => (teamMembers || sameFilter ? list.items.filter(inView) : list.items),
    [list.items, teamMembers, sameFilter],
  );
  const groups = useMemo(
    () => (grouping === "cause" ? groupByCause(visible) : grouping === "pair" ? groupByPair(visible) : null),
    [visible, grouping],
  );
  const repos = useMemo(
    () => [...new Set([...list.items.map((c) => c.repo), ...(repoFilter ? [repoFilter] : [])])].sort(),
    [list.items, repoFilter],
  );
  const users = useMemo(() => [...directory.users.values()].sort((a, b) => a.name.localeCompare(b.name)), [directory]);
  const [openGroups, setOpenGroups] = useState<Set<string>>(new Set());

  // Rows are drawn by a memoised component: the tab counts, thread marks and names arrive after
  // the list, and each used to draw all of its rows again.
  const paramsRef = useRef(setParams);
  paramsRef.current = setParams;
  const toggleThreads = useCallback((id: string, open: boolean) => paramsRef.current({ conflict: open ? undefined : id }), []);
  const row = (c: ConflictRecord) => (
    <ConflictRow
      key={c.id}
      c={c}
      open={opened === c.id}
      threads={threadCounts.get(c.id) ?? 0}
      names={names}
      now={now}
      onToggleThreads={toggleThreads}
    />
  );

  const groupTitle = (g: ConflictGroup) => {
    if (g.kind === "claim")
      return (
        <>
          {g.items.length > 1 ? `One claim against ${g.items.length}: ` : "One claim: "}
          <code>{g.pattern ?? "edit"}</code> of <a href={sessionHref(g.sessionId!)}>{names.session(g.sessionId!)}</a>
        </>
      );
    if (g.kind === "pair") {
      const [a, b] = g.sessions!;
      const same = g.items[0]!.sameDeveloper;
      return (
        <>
          <a href={sessionHref(a)}>{names.session(a)}</a> ↔ <a href={sessionHref(b)}>{names.session(b)}</a> · {g.items.length}
          {same ? <SameDeveloperMark /> : null}
        </>
      );
    }
    return <>An edit conflict</>;
  };

  const head = (
    <thead>
      <tr>
        <th scope="col">Repository</th>
        <th scope="col">Parties</th>
        <th scope="col">Witness path</th>
        <th scope="col">Patterns</th>
        <th scope="col">Age</th>
        <th scope="col">State</th>
        <th scope="col">Thread</th>
      </tr>
    </thead>
  );

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
          <a
            key={s}
            href={href("conflicts", {
              status: s,
              repo: repoFilter || undefined,
              user: userFilter || undefined,
              team: teamFilter || undefined,
              session: sessionFilter || undefined,
              same: sameFilter || undefined,
              group: grouping === "none" ? undefined : grouping,
              range: range || undefined,
            })}
            aria-current={s === status ? "page" : undefined}
            class="segment"
          >
            {s[0]!.toUpperCase() + s.slice(1)}{" "}
            <span class="badge">{counts[s] === undefined ? "…" : counts[s] === null ? "—" : counts[s] === 500 ? "500+" : counts[s]}</span>
          </a>
        ))}
      </div>
      <div class="toolbar" data-testid="conflict-filters">
        <label for="conflicts-repo">Repository</label>
        <select
          id="conflicts-repo"
          value={repoFilter}
          onChange={(e) => setParams({ repo: (e.target as HTMLSelectElement).value || undefined })}
        >
          <option value="">all</option>
          {repos.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <label for="conflicts-team">Team</label>
        <select
          id="conflicts-team"
          value={teamFilter}
          onChange={(e) => setParams({ team: (e.target as HTMLSelectElement).value || undefined })}
        >
          <option value="">all</option>
          {directory.teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="conflicts-user">Person</label>
        <select
          id="conflicts-user"
          value={userFilter}
          onChange={(e) => setParams({ user: (e.target as HTMLSelectElement).value || undefined })}
        >
          <option value="">anyone</option>
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.displayName || u.name}
            </option>
          ))}
        </select>
        <label for="conflicts-same">Same developer</label>
        <select
          id="conflicts-same"
          value={sameFilter}
          onChange={(e) => setParams({ same: (e.target as HTMLSelectElement).value || undefined })}
        >
          {(Object.keys(SAME_FILTERS) as SameFilter[]).map((f) => (
            <option key={f} value={f}>
              {SAME_FILTERS[f]}
            </option>
          ))}
        </select>
        <label for="conflicts-group">Group</label>
        <select
          id="conflicts-group"
          value={grouping}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            setParams({ group: v === "none" ? undefined : v });
          }}
        >
          {(Object.keys(GROUPINGS) as Grouping[]).map((g) => (
            <option key={g} value={g}>
              {GROUPINGS[g]}
            </option>
          ))}
        </select>
        <TimeRangePicker value={range} onChange={(next) => setParams({ range: next || undefined })} />
        {sessionFilter ? (
          <span class="chip">
            session <a href={sessionHref(sessionFilter)}>{names.session(sessionFilter)}</a>{" "}
            <button type="button" class="button button-small button-quiet" onClick={() => setParams({ session: undefined })}>
              Clear<span class="visually-hidden"> the session filter</span>
            </button>
          </span>
        ) : null}
        {userFilter ? <a href={developerHref(userFilter)}>developer page</a> : null}
      </div>
      {list.state === "loading" ? (
        <Loading what={`${status} conflicts`} />
      ) : list.state === "error" ? (
        <ErrorState title="Could not load the conflicts" message={list.error ?? "Unknown error"} onRetry={() => setAttempt((n) => n + 1)} />
      ) : visible.length === 0 ? (
        <Empty
          title={`No ${status} conflicts${range ? ` opened in the ${rangeLabel(range)}` : ""}${repoFilter || userFilter || teamFilter || sessionFilter || sameFilter ? " match the filters" : ""}.`}
        >
          {status === "open" ? "When two agents' claims or edits collide, the conflict appears here at once." : null}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table table-stack conflicts-table">
            <caption class="visually-hidden">
              {status} conflicts, {groups ? GROUPINGS[grouping] : "newest first"}
            </caption>
            {head}
            {groups ? (
              groups.map((g) => {
                const open = openGroups.has(g.key) || g.items.length <= 2;
                return (
                  <tbody key={g.key} class="conflict-group" data-group={g.key} data-size={g.items.length}>
                    <tr class="group-head">
                      <th scope="rowgroup" colSpan={7}>
                        {g.items.length > 2 ? (
                          <button
                            type="button"
                            class="button button-small button-quiet"
                            aria-expanded={open}
                            onClick={() =>
                              setOpenGroups((s) => {
                                const next = new Set(s);
                                if (next.has(g.key)) next.delete(g.key);
                                else next.add(g.key);
                                return next;
                              })
                            }
                          >
                            {open ? "Hide" : "Show"} {g.items.length}
                          </button>
                        ) : null}{" "}
                        {groupTitle(g)}
                      </th>
                    </tr>
                    {open ? g.items.map(row) : null}
                  </tbody>
                );
              })
            ) : (
              <tbody>{visible.map(row)}</tbody>
            )}
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
