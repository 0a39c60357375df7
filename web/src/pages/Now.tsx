import { memo } from "preact/compat";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, errorMessage, readAll } from "../api/client.js";
import type { BrigadeEvent, Overview, Session } from "../api/types.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatDateTime, plural, relativeTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { href } from "../lib/router.js";
import { useApp, useDirectory, useLiveEvents, userName, type Directory } from "../state/app.js";
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

/** teams → developers → agents → sessions; a developer in two teams appears in both. */
export function groupSessions(sessions: Iterable<Session>, directory: Directory, needle: string): TeamGroup[] {
  const byUser = new Map<string, Session[]>();
  for (const s of sessions) {
    if (!matches(s, needle, directory)) continue;
    const list = byUser.get(s.userId);
    if (list) list.push(s);
    else byUser.set(s.userId, [s]);
  }
  const developer = (userId: string): DeveloperGroup => {
    const list = byUser.get(userId)!;
    const agents = new Map<string, Session[]>();
    for (const s of list) {
      const group = agents.get(s.agent.name);
      if (group) group.push(s);
      else agents.set(s.agent.name, [s]);
    }
    return {
      userId,
      name: userName(directory, userId),
      count: list.length,
      agents: [...agents.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, group]) => ({ name, sessions: group.sort((a, b) => b.startedAt.localeCompare(a.startedAt)) })),
    };
  };
  const teams: TeamGroup[] = [];
  const placed = new Set<string>();
  for (const team of directory.teams) {
    const developers = team.members.filter((id) => byUser.has(id)).map(developer);
    developers.forEach((d) => placed.add(d.userId));
    teams.push({
      id: team.id,
      name: team.name,
      developers: developers.sort((a, b) => a.name.localeCompare(b.name)),
      count: developers.reduce((n, d) => n + d.count, 0),
    });
  }
  const loose = [...byUser.keys()].filter((id) => !placed.has(id)).map(developer);
  if (loose.length > 0)
    teams.push({
      id: "",
      name: "No team",
      developers: loose.sort((a, b) => a.name.localeCompare(b.name)),
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

const SessionRows = memo(function SessionRows({ agent, tick }: { agent: AgentGroup; tick: number }) {
  return (
    <>
      {agent.sessions.map((s, i) => {
        // Highlighted once when the row appears (a CSS animation), if it is new.
        const fresh = Date.now() - Date.parse(s.startedAt) < 15_000;
        return (
          <tr key={s.id} class={fresh ? "fresh" : undefined} data-session={s.id}>
            {i === 0 ? (
              <th scope="rowgroup" rowSpan={agent.sessions.length} class="agent-cell">
                {agent.name}
                {s.agent.kind ? <span class="muted"> · {s.agent.kind}</span> : null}
              </th>
            ) : null}
            <td class="mono" data-label="Repository">
              {s.repo}
            </td>
            <td class="mono" data-label="Branch">
              {s.branch ?? "—"}
            </td>
            <td class="task" data-label="Task">
              {s.task ?? <span class="muted">no task given</span>}
            </td>
            <td data-label="Status">
              <span class={`status status-${s.activity ?? s.status}`}>{s.activity ?? s.status}</span>
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
});

const DeveloperBlock = memo(function DeveloperBlock({ developer, tick }: { developer: DeveloperGroup; tick: number }) {
  return (
    <div class="developer">
      <h3>
        {developer.name} <span class="muted">· {plural(developer.count, "session")}</span>
      </h3>
      <div class="table-wrap">
        <table class="table table-stack sessions-table">
          <caption class="visually-hidden">Live sessions of {developer.name}</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Repository</th>
              <th scope="col">Branch</th>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {developer.agents.map((agent) => (
              <SessionRows key={agent.name} agent={agent} tick={tick} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
});

/** Sessions drawn at first: the busiest teams open until this many, the rest a summary line away. */
const OPEN_BUDGET = 150;

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

function TeamSection({ team, open, tick, onToggle }: { team: TeamGroup; open: boolean; tick: number; onToggle(open: boolean): void }) {
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
      {/* A closed team's sessions are not drawn at all: a thousand rows cost a visible moment. */}
      {!open ? null : team.developers.length === 0 ? (
        <p class="muted team-empty">Nobody in this team is working right now.</p>
      ) : (
        team.developers.map((d) => <DeveloperBlock key={d.userId} developer={d} tick={tick} />)
      )}
    </details>
  );
}

export function NowPage() {
  const app = useApp();
  const directory = useDirectory();
  const sessions = useStore(app.sessions);
  const counts = useCounts(app.isLead);
  const [filter, setFilter] = useState("");
  const [tick, setTick] = useState(Date.now());

  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), 10_000);
    return () => clearInterval(timer);
  }, []);

  const needle = filter.trim().toLowerCase();
  const groups = useMemo(() => groupSessions(sessions.byId.values(), directory, needle), [sessions, directory, needle]);
  const [openTeams, setOpenTeams] = useState<Map<string, boolean>>(new Map());
  // Chosen once, when the sessions first arrive: teams do not open and close by themselves as
  // their counts change. A team that appears later starts open while the whole page is small.
  const [initialOpen, setInitialOpen] = useState<Set<string> | null>(null);
  const total = groups.reduce((n, g) => n + g.count, 0);
  useEffect(() => {
    if (initialOpen === null && total > 0 && !needle) setInitialOpen(defaultOpenTeams(groups));
  }, [initialOpen, total, groups, needle]);
  const defaultOpen = useMemo(
    () => (initialOpen === null || total <= OPEN_BUDGET ? defaultOpenTeams(groups) : initialOpen),
    [initialOpen, groups, total],
  );
  const ready = sessions.state === "ready" && directory.state === "ready" && counts.state !== "loading";
  useRenderedMark("now", ready, groups);

  const overview = counts.overview;
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
        <Count label="Active sessions" value={sessions.state === "ready" ? sessions.byId.size : undefined} />
        <Count
          label="Active claims"
          value={overview?.claims.active}
          href={href("claims")}
          {...(counts.state === "forbidden" ? { note: "leads and admins" } : {})}
        />
        <Count
          label="Open conflicts"
          value={overview?.conflicts.open}
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
      </div>

      {sessions.state === "error" ? (
        <ErrorState title="Could not load the live sessions" message={sessions.error ?? "Unknown error"} onRetry={app.reloadSessions} />
      ) : directory.state === "error" ? (
        <ErrorState title="Could not load users and teams" message={directory.error ?? "Unknown error"} />
      ) : sessions.state === "loading" || directory.state === "loading" ? (
        <Loading what="live sessions" />
      ) : groups.every((g) => g.count === 0) ? (
        needle ? (
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
            {groups.map((team) => (
              <TeamSection
                key={team.id || "none"}
                team={team}
                open={openTeams.get(team.id) ?? defaultOpen.has(team.id)}
                tick={tick}
                onToggle={(open) => setOpenTeams((m) => new Map(m).set(team.id, open))}
              />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
