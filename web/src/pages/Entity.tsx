import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorMessage, readAll, repoPath, withQuery } from "../api/client.js";
import type { BrigadeEvent, Claim, ConflictRecord, Contract, Page, Session } from "../api/types.js";
import { RepoLink } from "../components/links.js";
import { SameDeveloperMark } from "../components/SameDeveloper.js";
import { Empty, ErrorState, Loading, FormMessage } from "../components/states.js";
import { useQueue, WaitingList } from "../components/Waiting.js";
import type { QueueEntry } from "../api/types.js";
import { describeEvent } from "../lib/describe.js";
import { formatDateTime, formatTime, plural, relativeTime } from "../lib/format.js";
import { healthOf, healthRule } from "../lib/health.js";
import { agentHref, developerHref, repoLinks, sessionHref, teamHref } from "../lib/links.js";
import { href } from "../lib/router.js";
import { loadOf, teamName, useApp, useDirectory, userName, useLiveEvents } from "../state/app.js";
import { loadLinkTemplates, useLinkTemplates } from "../state/link-templates.js";
import { rememberSessions, useNames } from "../state/names.js";
import { useStore } from "../state/store.js";

/**
 * The entity pages: a developer, a team, an agent, a session, a repository. Each shows what it
 * holds now (sessions, claims, conflicts, contracts) and its recent activity, read from the
 * list endpoints with the entity as their filter; the address (#/developer?id=…) is shareable.
 */

interface Loaded {
  state: "loading" | "ready" | "error";
  error?: string;
  sessions: Session[];
  claims: Claim[];
  conflicts: ConflictRecord[];
  contracts: Contract[];
  events: BrigadeEvent[];
}

const EMPTY: Loaded = { state: "loading", sessions: [], claims: [], conflicts: [], contracts: [], events: [] };
const MAX = 2_000;

interface Sources {
  sessions?: Record<string, string>;
  claims?: Record<string, string>;
  conflicts?: Record<string, string>;
  contracts?: Record<string, string>[];
  events?: Record<string, string>;
  /** Narrows what the filters above cannot (an agent's sessions among its developer's). */
  keep?: {
    session?(s: Session): boolean;
    claim?(c: Claim): boolean;
    conflict?(c: ConflictRecord): boolean;
    event?(e: BrigadeEvent): boolean;
  };
}

/** Reads an entity's lists, and again (a little later) when events about it arrive. */
function useEntity(key: string, sources: Sources): Loaded {
  const app = useApp();
  const resets = useStore(app.resets);
  const [data, setData] = useState<Loaded>(EMPTY);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let cancelled = false;
    const keep = sources.keep ?? {};
    const none = Promise.resolve({ items: [] as never[], truncated: false });
    Promise.all([
      sources.sessions ? readAll<Session>("/v1/sessions", { limit: 500, ...sources.sessions }, { max: MAX }) : none,
      sources.claims ? readAll<Claim>("/v1/claims", { active: "true", limit: 500, ...sources.claims }, { max: MAX }) : none,
      sources.conflicts
        ? readAll<ConflictRecord>("/v1/conflicts", { status: "open", limit: 500, ...sources.conflicts }, { max: MAX })
        : none,
      Promise.all(
        (sources.contracts ?? []).map((q) => api<Page<Contract>>(withQuery("/v1/contracts", { limit: 100, ...q })).then((p) => p.items)),
      ).then((lists) => [...new Map(lists.flat().map((c) => [c.id, c])).values()]),
      sources.events
        ? api<Page<BrigadeEvent>>(withQuery("/v1/events", { order: "desc", limit: 50, ...sources.events })).then((p) => p.items)
        : Promise.resolve([] as BrigadeEvent[]),
    ])
      .then(([sessions, claims, conflicts, contracts, events]) => {
        if (cancelled) return;
        rememberSessions(sessions.items);
        setData({
          state: "ready",
          sessions: keep.session ? sessions.items.filter(keep.session) : sessions.items,
          claims: keep.claim ? claims.items.filter(keep.claim) : claims.items,
          conflicts: keep.conflict ? conflicts.items.filter(keep.conflict) : conflicts.items,
          contracts,
          events: keep.event ? events.filter(keep.event) : events,
        });
      })
      .catch((err: unknown) => !cancelled && setData({ ...EMPTY, state: "error", error: errorMessage(err) }));
    return () => {
      cancelled = true;
    };
  }, [key, resets, version]);
  useLiveEvents((events) => {
    if (events.some((e) => /^(session|claim|conflict|contract)\./.test(e.type))) setVersion((n) => n + 1);
  });
  return data;
}

function Section({ title, count, children, id }: { title: string; count?: number; children: ComponentChildren; id: string }) {
  return (
    <section class="entity-section" aria-labelledby={id} data-section={id}>
      <h2 id={id}>
        {title}
        {count !== undefined ? <span class="badge">{count}</span> : null}
      </h2>
      {children}
    </section>
  );
}

/** The entity's waiting queue entries (a lead's view: the organisation's queue; others see their own), live. */
function WaitingSection({ filter, keep }: { filter: Record<string, string>; keep(e: QueueEntry): boolean }) {
  const key = JSON.stringify(filter);
  const queue = useQueue(
    useMemo(() => filter, [key]),
    keep,
  );
  const items = queue.items.filter(keep);
  return (
    <Section id="waiting" title="Waiting" count={queue.state === "ready" ? items.length : undefined}>
      {queue.state === "loading" ? (
        <p class="muted">Reading the queue…</p>
      ) : queue.state === "error" ? (
        <p class="form-error">Could not read the queue: {queue.error}</p>
      ) : (
        <WaitingList entries={items} empty="Not waiting for any claim." showRepo />
      )}
    </Section>
  );
}

/** What an entity (a user, a team, a repository) has going on: live sessions, claims, open conflicts, contracts. */
function WorkSections(props: {
  data: Pick<Loaded, "sessions" | "claims" | "conflicts" | "contracts">;
  noSessions: string;
  conflictsMore: string;
  contractsTitle: string;
  contractRole(c: Contract): string;
}) {
  const { data } = props;
  return (
    <>
      <Section id="sessions" title="Live sessions" count={data.sessions.length}>
        <SessionsList sessions={data.sessions} empty={props.noSessions} />
      </Section>
      <Section id="claims" title="Claims" count={data.claims.length}>
        <ClaimsList claims={data.claims} />
      </Section>
      <Section id="conflicts" title="Open conflicts" count={data.conflicts.length}>
        <ConflictsList conflicts={data.conflicts} more={props.conflictsMore} />
      </Section>
      <Section id="contracts" title={props.contractsTitle} count={data.contracts.length}>
        <ContractsList contracts={data.contracts} role={props.contractRole} />
      </Section>
    </>
  );
}

function SessionsList({ sessions, empty }: { sessions: Session[]; empty: string }) {
  const names = useNames();
  const load = useStore(useApp().load);
  const now = Date.now();
  if (sessions.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="entity-list">
      {sessions.map((s) => {
        const health = healthOf(s, now);
        const held = loadOf(load, s.id);
        return (
          <li key={s.id} data-session={s.id}>
            <span class={`health health-${health}`} title={healthRule(s)}>
              {health}
            </span>{" "}
            <a href={sessionHref(s.id)}>{names.session(s.id)}</a> · <RepoLink repo={s.repo} />
            {s.branch ? (
              <>
                {" "}
                · <RepoLink repo={s.repo} branch={s.branch} />
              </>
            ) : null}
            {s.task ? <span class="muted"> · {s.task}</span> : null}
            {health !== "ended" && load.state === "ready" ? (
              <span class="muted">
                {" "}
                · {plural(held.claims, "claim")} · {plural(held.openConflicts, "open conflict")}
              </span>
            ) : null}
            <span class="muted"> · heartbeat {relativeTime(s.lastHeartbeatAt, now)}</span>
          </li>
        );
      })}
    </ul>
  );
}

function ClaimsList({ claims }: { claims: Claim[] }) {
  const names = useNames();
  if (claims.length === 0) return <p class="muted">No live claims.</p>;
  return (
    <ul class="entity-list">
      {claims.map((c) => (
        <li key={c.id} data-claim={c.id}>
          {c.patterns.map((p) => (
            <code key={p} class="pattern">
              {p}{" "}
            </code>
          ))}
          <span class="muted">
            ({c.mode}) in <RepoLink repo={c.repo} /> · <a href={sessionHref(c.sessionId)}>{names.session(c.sessionId)}</a>
            {c.reason ? ` · ${c.reason}` : ""} · expires {relativeTime(c.expiresAt)} ·{" "}
            <a href={href("claims", { repo: c.repo })}>on the claims map</a>
          </span>
        </li>
      ))}
    </ul>
  );
}

function ConflictsList({ conflicts, more }: { conflicts: ConflictRecord[]; more: string }) {
  const names = useNames();
  if (conflicts.length === 0) return <p class="muted">No open conflicts.</p>;
  return (
    <>
      <ul class="entity-list">
        {conflicts.map((c) => (
          <li key={c.id} data-conflict={c.id}>
            <a href={sessionHref(c.sessionId)}>{names.session(c.sessionId)}</a> ↔{" "}
            <a href={sessionHref(c.otherSessionId)}>{names.session(c.otherSessionId)}</a>
            {c.sameDeveloper ? <SameDeveloperMark /> : null} · <RepoLink repo={c.repo} /> · witness{" "}
            <RepoLink repo={c.repo} path={c.witness} />
            <span class="muted"> · opened {relativeTime(c.openedAt)}</span>
          </li>
        ))}
      </ul>
      <p>
        <a href={more}>All of them on the Conflicts page</a>
      </p>
    </>
  );
}

function ContractsList({ contracts, role }: { contracts: Contract[]; role(c: Contract): string }) {
  if (contracts.length === 0) return <p class="muted">None.</p>;
  return (
    <ul class="entity-list">
      {contracts.map((c) => (
        <li key={c.id}>
          <a href={href("contracts", { name: c.name })}>{c.name}</a>{" "}
          <span class="muted">
            ({c.kind}) · {role(c)}
          </span>
        </li>
      ))}
    </ul>
  );
}

function EventsList({ events, more }: { events: BrigadeEvent[]; more: string }) {
  const names = useNames();
  if (events.length === 0) return <p class="muted">Nothing recent.</p>;
  return (
    <>
      <ul class="feed entity-feed">
        {events.map((e) => (
          <li key={e.id} class="feed-item" data-event-type={e.type}>
            <time dateTime={e.time} title={formatDateTime(e.time)} class="feed-time">
              {formatTime(e.time)}
            </time>
            <span class="tag feed-type">{e.type}</span>
            <span class="feed-text">{describeEvent(e, names)}</span>
          </li>
        ))}
      </ul>
      <p>
        <a href={more}>More on the Activity page</a>
      </p>
    </>
  );
}

function EntityShell({ kind, title, children, data }: { kind: string; title: string; children: ComponentChildren; data: Loaded }) {
  useEffect(() => {
    document.title = `${title} · Brigade`;
  }, [title]);
  return (
    <section aria-labelledby="entity-title" class="page entity" data-entity={kind}>
      <div class="page-head">
        <p class="muted">{kind}</p>
        <h1 id="entity-title">{title}</h1>
      </div>
      {data.state === "loading" ? (
        <Loading what={`this ${kind}`} />
      ) : data.state === "error" ? (
        <ErrorState title={`Could not load this ${kind}`} message={data.error ?? "Unknown error"} />
      ) : (
        children
      )}
    </section>
  );
}

const activityHref = (params: Record<string, string>) => href("activity", params);

export function DeveloperPage({ params }: { params: URLSearchParams }) {
  const id = params.get("id") ?? "";
  const directory = useDirectory();
  const data = useEntity(`developer:${id}`, {
    sessions: { user: id, active: "true" },
    claims: { user: id },
    conflicts: { user: id },
    contracts: [{ consumer: id }],
    events: { user: id },
  });
  const user = directory.users.get(id);
  const teams = directory.teamsOfUser.get(id) ?? [];
  if (!id) return <Empty title="No developer given." />;
  return (
    <EntityShell kind="developer" title={userName(directory, id)} data={data}>
      <dl class="entity-facts">
        <dt>Name</dt>
        <dd>{user ? `${user.name} (${user.role})` : id}</dd>
        <dt>Teams</dt>
        <dd>
          {teams.length === 0
            ? "none"
            : teams.map((t, i) => (
                <span key={t.id}>
                  {i > 0 ? ", " : ""}
                  <a href={teamHref(t.id)}>{t.name}</a>
                </span>
              ))}
        </dd>
        <dt>Agents</dt>
        <dd>
          {[...new Map(data.sessions.map((s) => [s.agent.id, s.agent])).values()].map((a, i) => (
            <span key={a.id}>
              {i > 0 ? ", " : ""}
              <a href={agentHref(a.id, id)}>{a.name}</a>
            </span>
          ))}
          {data.sessions.length === 0 ? "none running" : null}
        </dd>
      </dl>
      <WorkSections
        data={data}
        noSessions="No live sessions."
        conflictsMore={href("conflicts", { user: id })}
        contractsTitle="Contracts consumed"
        contractRole={() => "consumer"}
      />
      <WaitingSection filter={{ user: id }} keep={(e) => e.waiter.userId === id} />
      <Section id="activity" title="Recent activity">
        <EventsList events={data.events} more={activityHref({ user: id })} />
      </Section>
    </EntityShell>
  );
}

export function TeamPage({ params }: { params: URLSearchParams }) {
  const id = params.get("id") ?? "";
  const directory = useDirectory();
  const team = directory.teams.find((t) => t.id === id);
  const members = useMemo(() => new Set(team?.members ?? []), [team]);
  const data = useEntity(`team:${id}:${[...members].join(",")}`, {
    sessions: { team: id, active: "true" },
    claims: { team: id },
    conflicts: {},
    contracts: [{ team: id }, { consumer: id }],
    events: { team: id },
    keep: { conflict: (c) => members.has(c.userId) || members.has(c.otherUserId) },
  });
  if (!id) return <Empty title="No team given." />;
  return (
    <EntityShell kind="team" title={teamName(directory, id)} data={data}>
      <dl class="entity-facts">
        <dt>Members</dt>
        <dd>
          {team && team.members.length > 0
            ? team.members.map((m, i) => (
                <span key={m}>
                  {i > 0 ? ", " : ""}
                  <a href={developerHref(m)}>{userName(directory, m)}</a>
                </span>
              ))
            : "none"}
        </dd>
      </dl>
      <WorkSections
        data={data}
        noSessions="Nobody in this team is working right now."
        conflictsMore={href("conflicts", { team: id })}
        contractsTitle="Contracts"
        contractRole={(c) => (c.providerTeamId === id ? "provided" : "consumed")}
      />
      <WaitingSection filter={{ team: id }} keep={(e) => members.has(e.waiter.userId)} />
      <Section id="activity" title="Recent activity">
        <EventsList events={data.events} more={activityHref({ team: id })} />
      </Section>
    </EntityShell>
  );
}

export function AgentPage({ params }: { params: URLSearchParams }) {
  const id = params.get("id") ?? "";
  const app = useApp();
  const live = useStore(app.sessions);
  const directory = useDirectory();
  // The developer's sessions, ended ones too, narrowed to this agent's.
  const userId = params.get("user") ?? [...live.byId.values()].find((s) => s.agent.id === id)?.userId ?? "";
  const data = useEntity(`agent:${id}:${userId}`, {
    sessions: { user: userId },
    claims: { user: userId },
    conflicts: { user: userId },
    events: { user: userId },
    keep: { session: (s) => s.agent.id === id },
  });
  const mine = new Set(data.sessions.map((s) => s.id));
  const claims = data.claims.filter((c) => mine.has(c.sessionId));
  const conflicts = data.conflicts.filter((c) => mine.has(c.sessionId) || mine.has(c.otherSessionId));
  const events = data.events.filter((e) => mine.has(e.subject.id) || mine.has(String((e.payload as { sessionId?: string }).sessionId)));
  const agent = data.sessions[0]?.agent;
  if (!id || !userId) return <Empty title="This agent has no session this page can find." />;
  return (
    <EntityShell kind="agent" title={`${userName(directory, userId)}/${agent?.name ?? id}`} data={data}>
      <dl class="entity-facts">
        <dt>Developer</dt>
        <dd>
          <a href={developerHref(userId)}>{userName(directory, userId)}</a>
        </dd>
        <dt>Kind</dt>
        <dd>{agent?.kind || "—"}</dd>
      </dl>
      <Section id="sessions" title="Sessions" count={data.sessions.length}>
        <SessionsList sessions={data.sessions} empty="No sessions." />
      </Section>
      <Section id="claims" title="Claims" count={claims.length}>
        <ClaimsList claims={claims} />
      </Section>
      <Section id="conflicts" title="Open conflicts" count={conflicts.length}>
        <ConflictsList conflicts={conflicts} more={href("conflicts", { user: userId })} />
      </Section>
      <WaitingSection filter={{ user: userId }} keep={(e) => e.waiter.agent.id === id} />
      <Section id="activity" title="Recent activity">
        <EventsList events={events} more={activityHref({ user: userId })} />
      </Section>
    </EntityShell>
  );
}

export function SessionPage({ params }: { params: URLSearchParams }) {
  const id = params.get("id") ?? "";
  const directory = useDirectory();
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  const templates = useLinkTemplates();
  useEffect(() => {
    let cancelled = false;
    api<Session>(`/v1/sessions/${encodeURIComponent(id)}`)
      .then((s) => {
        if (cancelled) return;
        rememberSessions([s]);
        setSession(s);
      })
      .catch((err: unknown) => !cancelled && setError(errorMessage(err)));
    return () => {
      cancelled = true;
    };
  }, [id]);
  const data = useEntity(`session:${id}:${session?.userId ?? ""}`, {
    claims: { session: id },
    conflicts: { session: id },
    ...(session ? { events: { user: session.userId } } : {}),
    keep: { event: (e) => e.subject.id === id || (e.payload as { sessionId?: string }).sessionId === id },
  });
  if (error) return <ErrorState title="Could not load this session" message={error} />;
  if (!session) return <Loading what="the session" />;
  const health = healthOf(session, Date.now());
  const names = { user: userName(directory, session.userId) };
  const links = repoLinks(session.repo, templates);
  return (
    <EntityShell kind="session" title={`${names.user}/${session.agent.name}`} data={data}>
      <dl class="entity-facts">
        <dt>State</dt>
        <dd>
          <span class={`health health-${health}`}>{health}</span> <span class="muted">({healthRule(session)})</span>
        </dd>
        <dt>Task</dt>
        <dd>{session.task ?? "no task given"}</dd>
        <dt>Developer</dt>
        <dd>
          <a href={developerHref(session.userId)}>{names.user}</a>
        </dd>
        <dt>Agent</dt>
        <dd>
          <a href={agentHref(session.agent.id, session.userId)}>{session.agent.name}</a>
          {session.agent.kind ? ` (${session.agent.kind})` : ""}
        </dd>
        <dt>Repository</dt>
        <dd>
          <RepoLink repo={session.repo} />
        </dd>
        <dt>Branch</dt>
        <dd>{session.branch ? <RepoLink repo={session.repo} branch={session.branch} /> : "—"}</dd>
        {links?.pulls && session.branch ? (
          <>
            <dt>Pull requests</dt>
            <dd>
              <a href={links.pulls} target="_blank" rel="noopener noreferrer">
                on the code host
              </a>
            </dd>
          </>
        ) : null}
        <dt>Host · worktree</dt>
        <dd class="mono">
          {session.host ?? "—"} · {session.worktree ?? "—"}
        </dd>
        <dt>Started</dt>
        <dd>{formatDateTime(session.startedAt)}</dd>
        <dt>Last heartbeat</dt>
        <dd>
          {relativeTime(session.lastHeartbeatAt)} ({formatDateTime(session.lastHeartbeatAt)})
        </dd>
        <dt>{session.status === "active" ? "Lease ends" : "Ended"}</dt>
        <dd>{formatDateTime(session.status === "active" ? session.expiresAt : (session.endedAt ?? session.expiresAt))}</dd>
      </dl>
      <Section id="claims" title="Claims" count={data.claims.length}>
        <ClaimsList claims={data.claims} />
      </Section>
      <Section id="conflicts" title="Open conflicts" count={data.conflicts.length}>
        <ConflictsList conflicts={data.conflicts} more={href("conflicts", { session: id })} />
      </Section>
      <WaitingSection filter={{ session: id }} keep={(e) => e.sessionId === id} />
      <Section id="activity" title="Recent activity">
        <EventsList events={data.events} more={activityHref({ user: session.userId })} />
      </Section>
    </EntityShell>
  );
}

export function RepoPage({ params }: { params: URLSearchParams }) {
  const key = params.get("key") ?? "";
  const [codeowners, setCodeowners] = useState<string | null>(null);
  const data = useEntity(`repo:${key}`, {
    sessions: { repo: key, active: "true" },
    claims: { repo: key },
    conflicts: { repo: key },
    contracts: [{ repo: key }],
    events: { repo: key },
  });
  useEffect(() => {
    let cancelled = false;
    api<{ content: string }>(`/v1/repos/${repoPath(key)}/codeowners`)
      .then((f) => !cancelled && setCodeowners(f.content))
      .catch(() => !cancelled && setCodeowners(null));
    return () => {
      cancelled = true;
    };
  }, [key]);
  const templates = useLinkTemplates();
  const links = repoLinks(key, templates);
  if (!key) return <Empty title="No repository given." />;
  return (
    <EntityShell kind="repository" title={key} data={data}>
      <dl class="entity-facts">
        <dt>Code host</dt>
        <dd>
          {links ? (
            <>
              <a href={links.repo} target="_blank" rel="noopener noreferrer">
                {links.repo}
              </a>
              {links.pulls ? (
                <>
                  {" "}
                  ·{" "}
                  <a href={links.pulls} target="_blank" rel="noopener noreferrer">
                    pull requests
                  </a>
                </>
              ) : null}
            </>
          ) : (
            "unknown host: no link"
          )}
        </dd>
        <dt>Link template</dt>
        <dd data-testid="link-template">
          {templates[key] ? <code>{templates[key]}</code> : "none: links are derived from the key"}
          <LinkTemplateForm repo={key} current={templates[key] ?? ""} />
        </dd>
        <dt>Claims map</dt>
        <dd>
          <a href={href("claims", { repo: key })}>open</a>
        </dd>
      </dl>
      <WorkSections
        data={data}
        noSessions="Nobody works here right now."
        conflictsMore={href("conflicts", { repo: key })}
        contractsTitle="Contracts with their source here"
        contractRole={() => "source in this repository"}
      />
      {codeowners ? (
        <Section id="codeowners" title="CODEOWNERS">
          <ol class="codeowners-lines">
            {codeowners.split("\n").map((line, i) => {
              const pattern = line.trim().split(/\s+/)[0] ?? "";
              const ok = line.trim() && !line.trim().startsWith("#") && pattern && !/[*?]/.test(pattern);
              return (
                <li key={i} class="mono">
                  {links?.codeowners && line.trim() ? (
                    <a
                      class="external-text"
                      href={links.line(links.codeowners, i + 1)}
                      target="_blank"
                      rel="noopener noreferrer"
                      title={`${links.codeowners} line ${i + 1} on the code host`}
                    >
                      {line}
                    </a>
                  ) : (
                    line
                  )}
                  {ok && links ? (
                    <a
                      class="external"
                      href={links.dir(pattern.replace(/^\/|\/$/g, ""))}
                      target="_blank"
                      rel="noopener noreferrer"
                      aria-label={`Open ${pattern} on the code host`}
                    >
                      {" "}
                      ↗
                    </a>
                  ) : null}
                </li>
              );
            })}
          </ol>
        </Section>
      ) : null}
      <Section id="activity" title="Recent activity">
        <EventsList events={data.events} more={activityHref({ repo: key })} />
      </Section>
    </EntityShell>
  );
}

/**
 * An admin sets (or removes) the repository's link template here; others see it only. The
 * server checks it and names what is wrong; the links change on every page at once.
 */
function LinkTemplateForm({ repo, current }: { repo: string; current: string }) {
  const app = useApp();
  const [value, setValue] = useState(current);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setValue(current), [current]);
  if (app.role !== "admin" || app.me.via === "session") return null;
  const send = async (remove: boolean) => {
    setBusy(true);
    setMessage(null);
    try {
      const path = `/v1/repos/${repoPath(repo)}/link-template`;
      await (remove ? api(path, { method: "DELETE" }) : api(path, { method: "PUT", body: { template: value } }));
      await loadLinkTemplates();
      setMessage({ error: false, text: remove ? "Removed: links are derived from the key again." : "Saved." });
    } catch (err) {
      setMessage({ error: true, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="link-template-form"
      onSubmit={(e) => {
        e.preventDefault();
        void send(false);
      }}
    >
      <label for="link-template">URL template</label>
      <input
        id="link-template"
        class="mono"
        value={value}
        placeholder="https://git.example.com/{repo}/blob/{ref}/{path}#L{line}"
        aria-describedby="link-template-help"
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="button" disabled={busy || !value.trim()}>
        Save
      </button>
      {current ? (
        <button type="button" class="button button-quiet" disabled={busy} onClick={() => void send(true)}>
          Remove
        </button>
      ) : null}
      <p id="link-template-help" class="muted">
        Placeholders: {"{host}"}, {"{repo}"} (the path on the host), {"{ref}"}, {"{path}"}, {"{line}"}.
      </p>
      <FormMessage message={message} />
    </form>
  );
}
