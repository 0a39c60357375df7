import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, errorMessage, readAll, repoPath, withQuery } from "../../api/client.js";
import type { Claim, CodeownersFile, ConflictRecord, Overview, PathOwners } from "../../api/types.js";
import type { MapClaim } from "../../lib/claims-tree.js";
import { shortId } from "../../lib/format.js";
import { markDataArrived } from "../../lib/perf.js";
import { useApp, useLiveEvents } from "../../state/app.js";
import { throttle, useStore } from "../../state/store.js";

const MAX_CLAIMS = 50_000;
/** Live changes to a big map are drawn at most this often. */
const REDRAW_MS = 1_000;

interface RepoData {
  state: "loading" | "ready" | "error";
  error?: string;
  claims: Map<string, MapClaim>;
  conflicts: ConflictRecord[];
  codeowners: CodeownersFile | null;
  truncated: boolean;
  /** Bumped when claims change (the map is mutated in place, then redrawn). */
  version: number;
}

const toMapClaim = (c: Claim): MapClaim => ({
  id: c.id,
  sessionId: c.sessionId,
  userId: c.holder.userId,
  agentName: c.holder.agent.name,
  patterns: c.patterns,
  mode: c.mode,
  reason: c.reason,
  fence: c.fence,
  grantedAt: c.grantedAt,
  expiresAt: c.expiresAt,
});

/** The repositories worth offering: live sessions' and (for leads) the busiest claimed ones. */
export function useRepoChoices(isLead: boolean): { repos: string[]; counts: Map<string, number> } {
  const app = useApp();
  const sessions = useStore(app.sessions);
  const [overview, setOverview] = useState<Overview | null>(null);
  useEffect(() => {
    if (!isLead) return;
    api<Overview>("/v1/overview").then(setOverview, () => {});
  }, [isLead]);
  return useMemo(() => {
    const counts = new Map<string, number>();
    for (const r of overview?.claims.byRepo ?? []) counts.set(r.repo, r.active);
    for (const s of sessions.byId.values()) if (!counts.has(s.repo)) counts.set(s.repo, 0);
    const repos = [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a.localeCompare(b));
    return { repos, counts };
  }, [overview, sessions]);
}

export function useRepoData(repo: string): [RepoData, () => void] {
  const app = useApp();
  const resets = useStore(app.resets);
  const [data, setData] = useState<RepoData>({
    state: "loading",
    claims: new Map(),
    conflicts: [],
    codeowners: null,
    truncated: false,
    version: 0,
  });
  const [attempt, setAttempt] = useState(0);
  const dataRef = useRef(data);
  dataRef.current = data;

  const redraw = useMemo(() => throttle(() => setData((d) => ({ ...d, version: d.version + 1 })), REDRAW_MS), []);
  const reloadConflicts = useMemo(
    () =>
      throttle(() => {
        readAll<ConflictRecord>("/v1/conflicts", { repo, status: "unresolved", limit: 500 }, { max: 5_000 })
          .then(({ items }) => setData((d) => ({ ...d, conflicts: items, version: d.version + 1 })))
          .catch(() => {});
      }, REDRAW_MS),
    [repo],
  );

  useEffect(() => {
    if (!repo) return;
    let cancelled = false;
    setData({ state: "loading", claims: new Map(), conflicts: [], codeowners: null, truncated: false, version: 0 });
    // Who-owns says whether the repository has a CODEOWNERS file at all; asking for the file
    // of a repository without one would be a 404 (and a console error in every browser).
    const codeowners = api<PathOwners>(withQuery(`/v1/repos/${repoPath(repo)}/owners`, { path: "README.md" })).then((owners) =>
      owners.codeowners === null
        ? null
        : api<CodeownersFile>(`/v1/repos/${repoPath(repo)}/codeowners`).catch((err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return null;
            throw err;
          }),
    );
    Promise.all([
      readAll<Claim>("/v1/claims", { repo, active: true, limit: 500 }, { max: MAX_CLAIMS }),
      readAll<ConflictRecord>("/v1/conflicts", { repo, status: "unresolved", limit: 500 }, { max: 5_000 }),
      codeowners,
    ])
      .then(([claims, conflicts, file]) => {
        if (cancelled) return;
        markDataArrived("claims");
        setData({
          state: "ready",
          claims: new Map(claims.items.map((c) => [c.id, toMapClaim(c)])),
          conflicts: conflicts.items,
          codeowners: file,
          truncated: claims.truncated,
          version: 1,
        });
      })
      .catch((err: unknown) => {
        if (!cancelled) setData((d) => ({ ...d, state: "error", error: errorMessage(err) }));
      });
    return () => {
      cancelled = true;
      redraw.cancel();
      reloadConflicts.cancel();
    };
  }, [repo, resets, attempt, redraw, reloadConflicts]);

  useLiveEvents((events) => {
    const current = dataRef.current;
    if (current.state !== "ready") return;
    let changed = false;
    for (const e of events) {
      if (e.repo !== repo) continue;
      const p = e.payload as Record<string, unknown>;
      switch (e.type) {
        case "claim.granted": {
          const sessionId = String(p.sessionId);
          const session = app.sessions.value.byId.get(sessionId);
          current.claims.set(String(p.claimId), {
            id: String(p.claimId),
            sessionId,
            userId: String(p.userId),
            agentName: session?.agent.name ?? `session ${shortId(sessionId)}`,
            patterns: (p.patterns as string[]) ?? [],
            mode: p.mode === "shared" ? "shared" : "exclusive",
            reason: (p.reason as string | null) ?? null,
            fence: Number(p.fence),
            grantedAt: e.time,
            expiresAt: String(p.expiresAt),
          });
          changed = true;
          break;
        }
        case "claim.renewed": {
          const claim = current.claims.get(String(p.claimId));
          if (claim) claim.expiresAt = String(p.expiresAt);
          changed = true;
          break;
        }
        case "claim.released":
        case "claim.expired":
        case "claim.broken":
          changed = current.claims.delete(String(p.claimId)) || changed;
          break;
        case "conflict.opened":
        case "conflict.acknowledged":
        case "conflict.resolved":
          reloadConflicts();
          break;
        case "codeowners.updated":
          setAttempt((n) => n + 1);
          break;
        default:
          break;
      }
    }
    if (changed) redraw();
  });

  return [data, () => setAttempt((n) => n + 1)];
}
