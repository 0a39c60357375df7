import { memo } from "preact/compat";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, errorMessage, readAll } from "../api/client.js";
import type { BrigadeEvent, Overview, Session } from "../api/types.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatDateTime, plural, relativeTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { DEFAULT_RULE, HEALTH_STATES, healthOf, healthRule, type Health } from "../lib/health.js";
import { agentHref, developerHref, sessionHref, teamHref } from "../lib/links.js";
import { href, navigate } from "../lib/router.js";
import { RepoLink } from "../components/links.js";
import { loadOf, useApp, useDirectory, useLiveEvents, userName, type Directory, type LoadState } from "../state/app.js";
import { throttle, useStore } from "../state/store.js";

interface AgentGroup {
  name: string;
  sessions: Session[];
}
interface DeveloperGroup {
  userId: string;
  name: string;
  agents: AgentGroup[];
  count: number;
  claims: number;
  conflicts: number;
  /** The oldest last heartbeat among its sessions (the most silent agent). */
  oldestHeartbeat: string;
}

export const SORTS = {
  name: "name",
  conflicts: "most open conflicts",
  claims: "most claims",
  silent: "longest silent",
} as const;
export type SortKey = keyof typeof SORTS;

export interface NowFilter {
  needle: string;
  health: Health | "";
  conflictsOnly: boolean;
  sort: SortKey;
  now: number;
  load: LoadState;
}
interface TeamGroup {
  id: string;
  name: string;
  developers: DeveloperGroup[];
  count: number;
}

const startOfToday = () => {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
};

function matches(session: Session, needle: string, directory: Directory): boolean {
  if (!needle) return true;
  const text =
    `${session.repo} ${session.branch ?? ""} ${session.task ?? ""} ${session.agent.name} ${userName(directory, session.userId)}`.toLowerCase();
  return text.includes(needle);
}

function bySessionKey(sort: SortKey, load: LoadState): (a: Session, b: Session) => number {
  switch (sort) {
    case "conflicts":
      return (a, b) => loadOf(load, b.id).openConflicts - loadOf(load, a.id).openConflicts || b.startedAt.localeCompare(a.startedAt);
    case "claims":
      return (a, b) => loadOf(load, b.id).claims - loadOf(load, a.id).claims || b.startedAt.localeCompare(a.startedAt);
    case "silent":
      return (a, b) => a.lastHeartbeatAt.localeCompare(b.lastHeartbeatAt);
    default:
      return (a, b) => b.startedAt.localeCompare(a.startedAt);
  }
}

function byDeveloperKey(sort: SortKey): (a: DeveloperGroup, b: DeveloperGroup) => number {
  const name = (a: DeveloperGroup, b: DeveloperGroup) => a.name.localeCompare(b.name);
  switch (sort) {
    case "conflicts":
      return (a, b) => b.conflicts - a.conflicts || name(a, b);
    case "claims":
      return (a, b) => b.claims - a.claims || name(a, b);
    case "silent":
      return (a, b) => a.oldestHeartbeat.localeCompare(b.oldestHeartbeat) || name(a, b);
    default:
      return name;
  }
}

/** teams → developers → agents → sessions; a developer in two teams appears in both. */
export function groupSessions(sessions: Iterable<Session>, directory: Directory, filter: NowFilter): TeamGroup[] {
  const { needle, load, now } = filter;
  const byUser = new Map<string, Session[]>();
  for (const s of sessions) {
    if (!matches(s, needle, directory)) continue;
    if (filter.health && healthOf(s, now) !== filter.health) continue;
    if (filter.conflictsOnly && loadOf(load, s.id).openConflicts === 0) continue;
    const list = byUser.get(s.userId);
    if (list) list.push(s);
    else byUser.set(s.userId, [s]);
  }
  const developer = (userId: string): DeveloperGroup => {
    const list = byUser.get(userId)!;
    const agents = new Map<string, Session[]>();
    let claims = 0;
    let conflicts = 0;
    let oldestHeartbeat = "\uffff";
    for (const s of list) {
      const group = agents.get(s.agent.name);
      if (group) group.push(s);
      else agents.set(s.agent.name, [s]);
      const l = loadOf(load, s.id);
      claims += l.claims;
      conflicts += l.openConflicts;
      if (s.lastHeartbeatAt < oldestHeartbeat) oldestHeartbeat = s.lastHeartbeatAt;
    }
    const order = bySessionKey(filter.sort, load);
    return {
      userId,
      name: userName(directory, userId),
      count: list.length,
      claims,
      conflicts,
      oldestHeartbeat,
      agents: [...agents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, group]) => ({ name, sessions: group.sort(order) })),
    };
  };
  const developerOrder = byDeveloperKey(filter.sort);
  const teams: TeamGroup[] = [];
  const placed = new Set<string>();
  for (const team of directory.teams) {
    const developers = team.members.filter((id) => byUser.has(id)).map(developer);
    developers.forEach((d) => placed.add(d.userId));
    teams.push({
      id: team.id,
      name: team.name,
      developers: developers.sort(developerOrder),
      count: developers.reduce((n, d) => n + d.count, 0),
    });
  }
  const loose = [...byUser.keys()].filter((id) => !placed.has(id)).map(developer);
  if (loose.length > 0)
    teams.push({
      id: "",
      name: "No team",
      developers: loose.sort(developerOrder),
      count: loose.reduce((n, d) => n + d.count, 0),
    });
  return teams;
}

interface Counts {
  state: "loading" | "ready" | "error" | "forbidden";
  overview?: Overview;
  error?: string;
  contractChangesToday?: number;
}

function useCounts(isLead: boolean): Counts {
  const app = useApp();
  const resets = useStore(app.resets);
  const [counts, setCounts] = useState<Counts>({ state: "loading" });
  const refresh = useMemo(
    () =>
      throttle(() => {
        if (!isLead) return;
        api<Overview>("/v1/overview")
          .then((overview) => setCounts((c) => ({ ...c, state: "ready", overview })))
          .catch(() => {
            // Keep the last figures; the next event tries again.
          });
      }, 2_000),
    [isLead],
  );

  useEffect(() => {
    let cancelled = false;
    const since = startOfToday().toISOString();
    const overview = isLead ? api<Overview>("/v1/overview") : Promise.reject(new ApiError(403, "auth.forbidden", "Leads and admins only."));
    const changes = readAll<BrigadeEvent>("/v1/events", { type: "contract.version_published", after: since, limit: 1000 }, { max: 10_000 });
    Promise.allSettled([overview, changes]).then(([o, c]) => {
      if (cancelled) return;
      markDataArrived("now");
      setCounts({
        state: o.status === "fulfilled" ? "ready" : o.reason instanceof ApiError && o.reason.status === 403 ? "forbidden" : "error",
        ...(o.status === "fulfilled" ? { overview: o.value } : { error: errorMessage(o.reason) }),
        ...(c.status === "fulfilled" ? { contractChangesToday: c.value.items.length } : {}),
      });
    });
    return () => {
      cancelled = true;
      refresh.cancel();
    };
  }, [isLead, resets, refresh]);

  useLiveEvents((events) => {
    let published = 0;
    let relevant = false;
    const today = startOfToday().getTime();
    for (const e of events) {
      if (e.type === "contract.version_published" && Date.parse(e.time) >= today) published++;
      if (e.type.startsWith("claim.") || e.type.startsWith("conflict.") || e.type.startsWith("session.")) relevant = true;
    }
    if (published) setCounts((c) => ({ ...c, contractChangesToday: (c.contractChangesToday ?? 0) + published }));
    if (relevant) refresh();
  });
  return counts;
}

function Count({ label, value, href: link, note }: { label: string; value: number | undefined; href?: string; note?: string }) {
  const text = value === undefined ? "—" : value.toLocaleString();
  return (
    <div class="count">
      <dt>{label}</dt>
      <dd>
        {link ? <a href={link}>{text}</a> : text}
        {note ? <span class="count-note">{note}</span> : null}
      </dd>
    </div>
  );
}

interface SessionRowsProps {
  agent: AgentGroup;
  tick: number;
  load: LoadState;
}

/**
 * Whether an agent's rows would draw the same: the grouping is rebuilt whenever the figures move
 * (every batch of claim events while they stream in), so the groups are new objects each time;
 * the rows compare what they show instead — the same sessions, and the same figures for them.
 */
function sameRows(a: SessionRowsProps, b: SessionRowsProps): boolean {
  if (a.tick !== b.tick || a.load.state !== b.load.state || a.agent.name !== b.agent.name) return false;
  const before = a.agent.sessions;
  const after = b.agent.sessions;
  if (before.length !== after.length) return false;
  for (let i = 0; i < before.length; i++) {
    const s = before[i]!;
    if (s !== after[i]) return false;
    const x = loadOf(a.load, s.id);
    const y = loadOf(b.load, s.id);
    if (x.claims !== y.claims || x.openConflicts !== y.openConflicts) return false;
  }
  return true;
}

const SessionRows = memo(function SessionRows({ agent, tick, load }: SessionRowsProps) {
  return (
    <>
      {agent.sessions.map((s, i) => {
        // Highlighted once when the row appears (a CSS animation), if it is new.
        const fresh = Date.now() - Date.parse(s.startedAt) < 15_000;
        const health = healthOf(s, tick);
        const held = loadOf(load, s.id);
        const counted = load.state === "ready";
        return (
          <tr key={s.id} class={fresh ? "fresh" : undefined} data-session={s.id} data-health={health}>
            {i === 0 ? (
              <th scope="rowgroup" rowSpan={agent.sessions.length} class="agent-cell">
                <a href={agentHref(s.agent.id)}>{agent.name}</a>
                {s.agent.kind ? <span class="muted"> · {s.agent.kind}</span> : null}
              </th>
            ) : null}
            <td class="task" data-label="Task">
              <a href={sessionHref(s.id)}>{s.task ?? "no task given"}</a>
            </td>
            <td class="mono" data-label="Repository">
              <RepoLink repo={s.repo} />
            </td>
            <td class="mono" data-label="Branch">
              {s.branch ? <RepoLink repo={s.repo} branch={s.branch} /> : "—"}
            </td>
            <td data-label="State">
              <span class={`health health-${health}`} title={healthRule(s)}>
                {health}
              </span>
              {s.activity ? <span class="muted"> · {s.activity}</span> : null}
            </td>
            <td data-label="Claims" class="num">
              {counted ? <a href={sessionHref(s.id)}>{held.claims}</a> : "—"}
            </td>
            <td data-label="Conflicts" class="num">
              {counted ? (
                held.openConflicts > 0 ? (
                  <a class="badge badge-danger" href={href("conflicts", { session: s.id })}>
                    {held.openConflicts}
                  </a>
                ) : (
                  "0"
                )
              ) : (
                "—"
              )}
            </td>
            <td data-label="Last heartbeat">
              <time dateTime={s.lastHeartbeatAt} title={formatDateTime(s.lastHeartbeatAt)}>
                {relativeTime(s.lastHeartbeatAt, tick)}
              </time>
            </td>
          </tr>
        );
      })}
    </>
  );
}, sameRows);

const DeveloperBlock = memo(function DeveloperBlock({
  developer,
  tick,
  load,
}: {
  developer: DeveloperGroup;
  tick: number;
  load: LoadState;
}) {
  return (
    <div class="developer" data-developer={developer.userId}>
      <h3>
        <a href={developerHref(developer.userId)}>{developer.name}</a> <span class="muted">· {plural(developer.count, "session")}</span>
        {load.state === "ready" ? (
          <>
            <span class="muted"> · {plural(developer.claims, "claim")}</span>
            {developer.conflicts > 0 ? (
              <span class="badge badge-danger dev-conflicts">{plural(developer.conflicts, "open conflict")}</span>
            ) : null}
          </>
        ) : null}
      </h3>
      <div class="table-wrap">
        <table class="table table-stack sessions-table">
          <caption class="visually-hidden">Live sessions of {developer.name}</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Task</th>
              <th scope="col">Repository</th>
              <th scope="col">Branch</th>
              <th scope="col">State</th>
              <th scope="col">Claims</th>
              <th scope="col">Conflicts</th>
              <th scope="col">Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {developer.agents.map((agent) => (
              <SessionRows key={agent.name} agent={agent} tick={tick} load={load} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
});

/**
 * Sessions drawn at first: teams open, in order, while fewer than this many are shown, the rest
 * a summary line away. A session's row has grown to some twenty elements (health, figures,
 * code-host links for repository and branch): at 150, two teams of a hundred were drawn and
 * creating, styling and laying them out was most of the page's first draw.
 */
const OPEN_BUDGET = 100;

function defaultOpenTeams(groups: TeamGroup[]): Set<string> {
  const open = new Set<string>();
  let shown = 0;
  for (const g of groups) {
    if (g.count === 0) continue;
    if (shown < OPEN_BUDGET) open.add(g.id);
    shown += g.count;
  }
  return open;
}

function TeamSection({
  team,
  open,
  tick,
  load,
  onToggle,
}: {
  team: TeamGroup;
  open: boolean;
  tick: number;
  load: LoadState;
  onToggle(open: boolean): void;
}) {
  const agents = team.developers.reduce((n, d) => n + d.agents.length, 0);
  return (
    <details
      open={open}
      class="team"
      data-team={team.name}
      onToggle={(e) => {
        const now = (e.currentTarget as HTMLDetailsElement).open;
        if (now !== open) onToggle(now);
      }}
    >
      <summary>
        <h2>{team.name}</h2>
        <span class="muted">
          {plural(team.count, "session")} · {plural(team.developers.length, "developer")} · {plural(agents, "agent")}
        </span>
      </summary>
      {open && team.id ? (
        <p class="team-link">
          <a href={teamHref(team.id)}>Team page of {team.name}</a>
        </p>
      ) : null}
      {/* A closed team's sessions are not drawn at all: a thousand rows cost a visible moment. */}
      {!open ? null : team.developers.length === 0 ? (
        <p class="muted team-empty">Nobody in this team is working right now.</p>
      ) : (
        team.developers.map((d) => <DeveloperBlock key={d.userId} developer={d} tick={tick} load={load} />)
      )}
    </details>
  );
}

const isSort = (v: string | null): v is SortKey => v !== null && v in SORTS;
const isHealth = (v: string | null): v is Health => v !== null && (HEALTH_STATES as readonly string[]).includes(v);

export function NowPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const sessions = useStore(app.sessions);
  const load = useStore(app.load);
  const counts = useCounts(app.isLead);
  const [filter, setFilter] = useState("");
  const [tick, setTick] = useState(Date.now());
  // Sort and state filter live in the address: a view of "who is stale" can be shared.
  const sort: SortKey = isSort(params.get("sort")) ? (params.get("sort") as SortKey) : "name";
  const health: Health | "" = isHealth(params.get("state")) ? (params.get("state") as Health) : "";
  const conflictsOnly = params.get("conflicts") === "1";
  const setParam = (changes: Record<string, string | undefined>) =>
    navigate(
      "now",
      {
        sort: sort === "name" ? undefined : sort,
        state: health || undefined,
        conflicts: conflictsOnly ? "1" : undefined,
        ...changes,
      },
      true,
    );

  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), 10_000);
    return () => clearInterval(timer);
  }, []);

  const needle = filter.trim().toLowerCase();
  const filtering = needle !== "" || health !== "" || conflictsOnly;
  const groups = useMemo(
    () => groupSessions(sessions.byId.values(), directory, { needle, health, conflictsOnly, sort, now: tick, load }),
    [sessions, directory, needle, health, conflictsOnly, sort, tick, load],
  );
  const [openTeams, setOpenTeams] = useState<Map<string, boolean>>(new Map());
  // Chosen once, when the sessions first arrive: teams do not open and close by themselves as
  // their counts change. A team that appears later starts open while the whole page is small.
  const [initialOpen, setInitialOpen] = useState<Set<string> | null>(null);
  const total = groups.reduce((n, g) => n + g.count, 0);
  useEffect(() => {
    if (initialOpen === null && total > 0 && !filtering) setInitialOpen(defaultOpenTeams(groups));
  }, [initialOpen, total, groups, filtering]);
  const defaultOpen = useMemo(
    () => (initialOpen === null || total <= OPEN_BUDGET || filtering ? defaultOpenTeams(groups) : initialOpen),
    [initialOpen, groups, total, filtering],
  );
  const ready = sessions.state === "ready" && directory.state === "ready" && counts.state !== "loading";
  useRenderedMark("now", ready, groups);

  const overview = counts.overview;
  // The per-session figures move with the events in the same render as the rows; the overview
  // (read at load and after bursts) is the fallback until they arrive.
  const claimCount = load.state === "ready" ? load.claims : overview?.claims.active;
  const conflictCount = load.state === "ready" ? load.openConflicts : overview?.conflicts.open;
  const healthCounts = useMemo(() => {
    const c: Record<Health, number> = { live: 0, idle: 0, stale: 0, ended: 0 };
    for (const s of sessions.byId.values()) c[healthOf(s, tick)]++;
    return c;
  }, [sessions, tick]);
  return (
    <section aria-labelledby="now-title" class="page">
      <div class="page-head">
        <h1 id="now-title">Now</h1>
        <p class="muted">
          Who is working on what, live. Last heartbeats as of{" "}
          {sessions.readAt ? relativeTime(new Date(sessions.readAt).toISOString(), tick) : "—"}.
        </p>
      </div>
      <dl class="counts" aria-label="At a glance">
        <Count
          label="Active sessions"
          value={sessions.state === "ready" ? sessions.byId.size : undefined}
          {...(sessions.state === "ready" && (healthCounts.stale > 0 || healthCounts.idle > 0)
            ? { note: `${healthCounts.idle} idle · ${healthCounts.stale} stale` }
            : {})}
        />
        <Count
          label="Active claims"
          value={claimCount}
          href={href("claims")}
          {...(counts.state === "forbidden" ? { note: "leads and admins" } : {})}
        />
        <Count
          label="Open conflicts"
          value={conflictCount}
          href={href("conflicts")}
          {...(counts.state === "forbidden" ? { note: "leads and admins" } : {})}
        />
        <Count label="Contract changes today" value={counts.contractChangesToday} href={href("contracts")} />
      </dl>
      {counts.state === "error" ? <p class="banner banner-warning">Some figures could not be read: {counts.error}</p> : null}

      <div class="toolbar">
        <label for="now-filter">Filter sessions</label>
        <input
          id="now-filter"
          type="search"
          placeholder="repo, developer, agent, task…"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
        <label for="now-state">State</label>
        <select id="now-state" value={health} onChange={(e) => setParam({ state: (e.target as HTMLSelectElement).value || undefined })}>
          <option value="">all</option>
          {HEALTH_STATES.filter((h) => h !== "ended").map((h) => (
            <option key={h} value={h}>
              {h} ({healthCounts[h]})
            </option>
          ))}
        </select>
        <label for="now-sort">Sort by</label>
        <select
          id="now-sort"
          value={sort}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            setParam({ sort: v === "name" ? undefined : v });
          }}
        >
          {(Object.keys(SORTS) as SortKey[]).map((k) => (
            <option key={k} value={k}>
              {SORTS[k]}
            </option>
          ))}
        </select>
        {load.state === "ready" ? (
          <label class="check">
            <input
              type="checkbox"
              checked={conflictsOnly}
              onChange={(e) => setParam({ conflicts: (e.target as HTMLInputElement).checked ? "1" : undefined })}
            />
            only with open conflicts
          </label>
        ) : null}
      </div>
      <p class="muted legend" data-testid="health-legend">
        <span class="health health-live">live</span> heartbeat within half the session's lease (at most 2 min; {DEFAULT_RULE.live} for the
        default 5-min lease) · <span class="health health-idle">idle</span> late, within its lease (at most 10 min; {DEFAULT_RULE.idle} by
        default) · <span class="health health-stale">stale</span> silent longer, or past its lease. Hover a state for its session's own
        thresholds.
      </p>

      {sessions.state === "error" ? (
        <ErrorState title="Could not load the live sessions" message={sessions.error ?? "Unknown error"} onRetry={app.reloadSessions} />
      ) : directory.state === "error" ? (
        <ErrorState title="Could not load users and teams" message={directory.error ?? "Unknown error"} />
      ) : sessions.state === "loading" || directory.state === "loading" ? (
        <Loading what="live sessions" />
      ) : groups.every((g) => g.count === 0) ? (
        filtering ? (
          <Empty title="No session matches the filter." />
        ) : (
          <Empty title="No live sessions right now.">
            Sessions appear here the moment an agent starts one (<code>brigade session start</code>, or <code>POST /v1/sessions</code>).
          </Empty>
        )
      ) : (
        <>
          <div class="toolbar">
            <button type="button" class="button button-small" onClick={() => setOpenTeams(new Map(groups.map((g) => [g.id, true])))}>
              Expand all teams
            </button>
            <button type="button" class="button button-small" onClick={() => setOpenTeams(new Map(groups.map((g) => [g.id, false])))}>
              Collapse all
            </button>
          </div>
          <div class="teams">
            {groups
              .filter((team) => !filtering || team.count > 0)
              .map((team) => (
                <TeamSection
                  key={team.id || "none"}
                  team={team}
                  open={openTeams.get(team.id) ?? defaultOpen.has(team.id)}
                  tick={tick}
                  load={load}
                  onToggle={(open) => setOpenTeams((m) => new Map(m).set(team.id, open))}
                />
              ))}
          </div>
        </>
      )}
    </section>
  );
}
