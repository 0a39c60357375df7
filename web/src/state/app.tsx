import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, readAll, errorMessage } from "../api/client.js";
import { LiveStream, type StreamStatus } from "../api/stream.js";
import type { BrigadeEvent, Me, Role, Session, SessionLoad, Team, User } from "../api/types.js";
import { shortId } from "../lib/format.js";
import { markDataArrived } from "../lib/perf.js";
import { loadLinkTemplates } from "./link-templates.js";
import { Store, throttle, useStore } from "./store.js";

export interface Directory {
  state: "loading" | "ready" | "error";
  error?: string;
  users: Map<string, User>;
  teams: Team[];
  teamsOfUser: Map<string, Team[]>;
}

export interface SessionsState {
  state: "loading" | "ready" | "error";
  error?: string;
  /** Live sessions by id. */
  byId: Map<string, Session>;
  /** When the list was last read in full (heartbeats are not events: they refresh with it). */
  readAt: number;
}

/** Live claims and open conflicts per session (leads and admins), kept live from the events. */
export interface LoadState {
  state: "loading" | "ready" | "error" | "forbidden";
  bySession: Map<string, { claims: number; openConflicts: number }>;
  claims: number;
  openConflicts: number;
  /** Which conflicts are open: an acknowledgement or resolution counts down only one of these. */
  openIds: Set<string>;
}

const NO_LOAD = { claims: 0, openConflicts: 0 };
export const loadOf = (load: LoadState, sessionId: string) => load.bySession.get(sessionId) ?? NO_LOAD;

export interface AppState {
  me: Me;
  role: Role;
  /** Leads and admins with a personal token: the organisation-wide view and claim breaking. */
  isLead: boolean;
  stream: LiveStream;
  directory: Store<Directory>;
  sessions: Store<SessionsState>;
  load: Store<LoadState>;
  /** Every event the caller may see, live (one server subscription, fanned out here). */
  onEvents(handler: (events: BrigadeEvent[]) => void): () => void;
  /** Bumped when the live stream could not resume: pages reload their snapshots. */
  resets: Store<number>;
  reloadSessions(): void;
}

const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const app = useContext(AppContext);
  if (!app) throw new Error("useApp outside AppProvider");
  return app;
}

/** Calls `handler` with each batch of live events while the component is mounted. */
export function useLiveEvents(handler: (events: BrigadeEvent[]) => void) {
  const app = useApp();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => app.onEvents((events) => ref.current(events)), [app]);
}

/** Reloads with the live events that concern messages (their events carry no text), at most once a second. */
export function useMessageEvents(reload: () => void) {
  const refresh = useMemo(() => throttle(reload, 1_000), [reload]);
  useEffect(() => () => refresh.cancel(), [refresh]);
  useLiveEvents((events) => {
    if (events.some((e) => e.type.startsWith("message."))) refresh();
  });
}

export function useStreamStatus(stream: LiveStream): StreamStatus {
  const [status, setStatus] = useState(stream.status);
  useEffect(() => {
    setStatus(stream.status);
    return stream.onStatus(setStatus);
  }, [stream]);
  return status;
}

export function userName(directory: Directory, id: string | null | undefined): string {
  if (!id) return "someone";
  const user = directory.users.get(id);
  return user ? user.displayName || user.name : `user ${shortId(id)}`;
}

export function teamName(directory: Directory, id: string | null | undefined): string {
  if (!id) return "no team";
  return directory.teams.find((t) => t.id === id)?.name ?? `team ${shortId(id)}`;
}

const SESSION_REFRESH_MS = 30_000;
const MAX_SESSIONS = 20_000;

interface ProviderProps {
  me: Me;
  token: string;
  onAuthLost(message: string): void;
  children: ComponentChildren;
}

export function AppProvider({ me, token, onAuthLost, children }: ProviderProps) {
  const state = useMemo(() => {
    const directory = new Store<Directory>({ state: "loading", users: new Map(), teams: [], teamsOfUser: new Map() });
    const sessions = new Store<SessionsState>({ state: "loading", byId: new Map(), readAt: 0 });
    const resets = new Store(0);
    const isLead = (me.user.role === "lead" || me.user.role === "admin") && me.via !== "session";
    const load = new Store<LoadState>({
      state: isLead ? "loading" : "forbidden",
      bySession: new Map(),
      claims: 0,
      openConflicts: 0,
      openIds: new Set(),
    });
    const handlers = new Set<(events: BrigadeEvent[]) => void>();
    const stream = new LiveStream({
      token,
      onAuthLost,
      checkAuth: async () => {
        await api("/v1/me");
      },
    });

    // Deleted users too (as the server's "deleted user" placeholders): history still names them.
    const loadDirectory = async () => {
      try {
        const [users, teams] = await Promise.all([
          api<{ items: User[] }>("/v1/users?includeDeleted=true"),
          api<{ items: Team[] }>("/v1/teams"),
        ]);
        const teamsOfUser = new Map<string, Team[]>();
        const sorted = [...teams.items].sort((a, b) => a.name.localeCompare(b.name));
        for (const team of sorted) for (const member of team.members) teamsOfUser.set(member, [...(teamsOfUser.get(member) ?? []), team]);
        markDataArrived("now");
        directory.set({ state: "ready", users: new Map(users.items.map((u) => [u.id, u])), teams: sorted, teamsOfUser });
      } catch (err) {
        directory.set({ ...directory.value, state: "error", error: errorMessage(err) });
      }
    };

    let loadingSessions = false;
    const loadSessions = async () => {
      if (loadingSessions) return;
      loadingSessions = true;
      try {
        const { items } = await readAll<Session>("/v1/sessions", { active: true, limit: 500 }, { max: MAX_SESSIONS });
        markDataArrived("now");
        sessions.set({ state: "ready", byId: new Map(items.map((s) => [s.id, s])), readAt: Date.now() });
      } catch (err) {
        sessions.set({ ...sessions.value, state: sessions.value.state === "ready" ? "ready" : "error", error: errorMessage(err) });
      } finally {
        loadingSessions = false;
      }
    };
    const reloadDirectory = throttle(() => void loadDirectory(), 2_000);

    const loadLoad = async () => {
      if (!isLead) return;
      try {
        const read = await api<SessionLoad>("/v1/overview/sessions");
        load.set({
          state: "ready",
          bySession: new Map(read.items.map((i) => [i.sessionId, { claims: i.claims, openConflicts: i.openConflicts }])),
          claims: read.claims,
          openConflicts: read.openConflicts,
          openIds: new Set(read.openConflictIds),
        });
      } catch {
        // Keep the last figures: the next event or refresh reads them again.
        if (load.value.state !== "ready") load.set({ ...load.value, state: "error" });
      }
    };
    // Deltas from the events keep the figures moving with the lists, in the same batch: a claim
    // granted or ended, a conflict opened, or one of the open conflicts acknowledged or resolved
    // (one that was not open when the figures were read changes nothing).
    const applyLoadEvents = (events: BrigadeEvent[]) => {
      if (load.value.state !== "ready") return;
      let bySession: Map<string, { claims: number; openConflicts: number }> | null = null;
      let openIds: Set<string> | null = null;
      let claims = load.value.claims;
      const bump = (sessionId: unknown, field: "claims" | "openConflicts", d: number) => {
        if (typeof sessionId !== "string") return;
        bySession ??= new Map(load.value.bySession);
        const e = bySession.get(sessionId) ?? { claims: 0, openConflicts: 0 };
        bySession.set(sessionId, { ...e, [field]: Math.max(0, e[field] + d) });
      };
      const conflictSides = (p: Record<string, unknown>, d: number) => {
        bump(p.sessionId, "openConflicts", d);
        if (p.otherSessionId !== p.sessionId) bump(p.otherSessionId, "openConflicts", d);
      };
      for (const e of events) {
        const p = e.payload as Record<string, unknown>;
        if (e.type === "claim.granted") {
          bump(p.sessionId, "claims", 1);
          claims++;
        } else if (e.type === "claim.released" || e.type === "claim.expired" || e.type === "claim.broken") {
          bump(p.sessionId, "claims", -1);
          claims = Math.max(0, claims - 1);
        } else if (e.type === "conflict.opened" || e.type === "conflict.acknowledged" || e.type === "conflict.resolved") {
          const id = p.conflictId;
          if (typeof id !== "string") continue;
          const ids = openIds ?? load.value.openIds;
          const opening = e.type === "conflict.opened";
          if (ids.has(id) === opening) continue; // already counted, or not open
          openIds ??= new Set(load.value.openIds);
          if (opening) openIds.add(id);
          else openIds.delete(id);
          conflictSides(p, opening ? 1 : -1);
        }
      }
      if (bySession || openIds) {
        const ids = openIds ?? load.value.openIds;
        load.set({ state: "ready", bySession: bySession ?? load.value.bySession, claims, openConflicts: ids.size, openIds: ids });
      }
    };

    const reloadSessions = throttle(() => void loadSessions(), 5_000);
    // The event carries most of a session; its agent kind, host and lease come from the API.
    const completeSessions = (ids: string[]) => {
      if (ids.length > 20) return reloadSessions();
      for (const id of ids) {
        api<Session>(`/v1/sessions/${id}`)
          .then((full) => {
            if (!sessions.value.byId.has(id) || full.status !== "active") return;
            const byId = new Map(sessions.value.byId);
            byId.set(id, full);
            sessions.set({ ...sessions.value, byId });
          })
          .catch(() => {});
      }
    };

    const applySessionEvents = (events: BrigadeEvent[]) => {
      let byId: Map<string, Session> | null = null;
      const started: string[] = [];
      for (const e of events) {
        if (e.type === "session.started") {
          if (!sessions.value.byId.has(e.subject.id)) started.push(e.subject.id);
          const p = e.payload as {
            userId: string;
            agentId: string;
            agent: string;
            repo: string;
            branch: string | null;
            task: string | null;
          };
          byId ??= new Map(sessions.value.byId);
          const existing = byId.get(e.subject.id);
          byId.set(e.subject.id, {
            id: e.subject.id,
            userId: p.userId,
            agent: { id: p.agentId, name: p.agent, kind: existing?.agent.kind ?? "" },
            repo: p.repo,
            branch: p.branch,
            host: existing?.host ?? null,
            task: p.task,
            status: "active",
            activity: existing?.activity ?? null,
            startedAt: e.time,
            lastHeartbeatAt: existing?.lastHeartbeatAt ?? e.time,
            expiresAt: existing?.expiresAt ?? e.time,
          });
        } else if (e.type === "session.ended" || e.type === "session.expired") {
          if (sessions.value.byId.has(e.subject.id) || byId?.has(e.subject.id)) {
            byId ??= new Map(sessions.value.byId);
            byId.delete(e.subject.id);
          }
        } else if (e.type.startsWith("user.") || e.type.startsWith("team.")) {
          reloadDirectory();
        } else if (e.type.startsWith("repo.link_template_")) {
          void loadLinkTemplates();
        }
      }
      if (byId) sessions.set({ ...sessions.value, byId });
      if (started.length > 0) completeSessions(started);
    };

    const subscriptionHandlers = {
      onEvents: (events: BrigadeEvent[]) => {
        applySessionEvents(events);
        applyLoadEvents(events);
        for (const handler of handlers) handler(events);
      },
      // The first reads may have run before the subscription was in place on the server: once
      // it is, they run again, so a session started in between is not missed.
      onLive: () => {
        void loadSessions();
        void loadDirectory();
        void loadLoad();
      },
      onReset: () => {
        void loadLinkTemplates();
        void loadSessions();
        void loadDirectory();
        void loadLoad();
        resets.update((n) => n + 1);
      },
    };

    return {
      app: {
        me,
        role: me.user.role,
        isLead,
        stream,
        directory,
        sessions,
        load,
        resets,
        onEvents(handler: (events: BrigadeEvent[]) => void) {
          handlers.add(handler);
          return () => handlers.delete(handler);
        },
        reloadSessions: () => void loadSessions(),
      } satisfies AppState,
      start() {
        const unsubscribe = stream.subscribe("all", { topic: "events" }, subscriptionHandlers);
        stream.start();
        void loadDirectory();
        void loadSessions();
        void loadLoad();
        void loadLinkTemplates();
        // Heartbeats are not events (docs/architecture.md): re-read the list now and then
        // while the tab is visible, so "last heartbeat" stays true.
        const timer = setInterval(() => {
          if (document.visibilityState === "visible") {
            void loadSessions();
            void loadLoad();
          }
        }, SESSION_REFRESH_MS);
        return () => {
          clearInterval(timer);
          reloadDirectory.cancel();
          reloadSessions.cancel();
          unsubscribe();
          stream.stop();
        };
      },
    };
  }, [me, token, onAuthLost]);

  useEffect(() => state.start(), [state]);

  return <AppContext.Provider value={state.app}>{children}</AppContext.Provider>;
}

export function useDirectory(): Directory {
  return useStore(useApp().directory);
}
