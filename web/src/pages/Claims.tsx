import { memo } from "preact/compat";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, errorMessage, readAll, repoPath, withQuery } from "../api/client.js";
import type { Alert, Claim, CodeownersFile, ConflictRecord, Overview, Page, PathOwners } from "../api/types.js";
import { Dialog } from "../components/Dialog.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { buildClaimsTree, findNode, isFolderPattern, placedUnder, type MapClaim, type Overlap, type Placed, type TreeNode } from "../lib/claims-tree.js";
import { assignColors, OTHER_COLOR } from "../lib/colors.js";
import { OwnersLookup } from "../lib/owners.js";
import { formatDateTime, plural, relativeTime, shortId } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { navigate } from "../lib/router.js";
import { useApp, useDirectory, useLiveEvents, userName, type Directory } from "../state/app.js";
import { throttle, useStore } from "../state/store.js";

const MAX_CLAIMS = 50_000;
/** Children listed under one folder before "…and N more". */
const MAX_CHILDREN_SHOWN = 300;
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
function useRepoChoices(isLead: boolean): { repos: string[]; counts: Map<string, number> } {
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

function useRepoData(repo: string): [RepoData, () => void] {
  const app = useApp();
  const resets = useStore(app.resets);
  const [data, setData] = useState<RepoData>({ state: "loading", claims: new Map(), conflicts: [], codeowners: null, truncated: false, version: 0 });
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

const PLACEHOLDER_FILE = "\u2026";

/** Owners of what is inside a folder (or of the file, for a file claim), by the CODEOWNERS rules. */
function ownersOf(index: OwnersLookup | null, node: TreeNode, cache: Map<string, string>): string {
  if (!index || !node.path) return "";
  const cached = cache.get(node.path);
  if (cached !== undefined) return cached;
  const isFile = node.children.length === 0 && node.own.length > 0 && node.own.every((p) => !isFolderPattern(p.pattern));
  let text = "";
  try {
    const match = index.owners(isFile ? node.path : `${node.path}/${PLACEHOLDER_FILE}`);
    text = match === null ? "" : match.owners.length === 0 ? "unowned" : match.owners.join(" ");
  } catch {
    text = "";
  }
  cache.set(node.path, text);
  return text;
}

function OwnersLine({ lookup, node }: { lookup: OwnersLookup; node: TreeNode }) {
  const isFile = node.children.length === 0 && node.own.length > 0 && node.own.every((p) => !isFolderPattern(p.pattern));
  let match: ReturnType<OwnersLookup["owners"]> = null;
  try {
    match = lookup.owners(isFile ? node.path : `${node.path}/${PLACEHOLDER_FILE}`);
  } catch {
    match = null;
  }
  return (
    <p data-testid="codeowners">
      <strong>CODEOWNERS{isFile ? "" : " (files in this folder)"}:</strong>{" "}
      {match === null ? (
        "no rule matches"
      ) : (
        <>
          {match.owners.length === 0 ? "explicitly unowned" : match.owners.join(" ")}{" "}
          <span class="muted">
            (line {match.rule.line}: <code>{match.rule.pattern}</code>)
          </span>
        </>
      )}
    </p>
  );
}

interface Row {
  node: TreeNode;
  level: number;
  setSize: number;
  posInSet: number;
  more?: number;
}

function visibleRows(root: TreeNode, expanded: Set<string>): Row[] {
  const rows: Row[] = [];
  const walk = (node: TreeNode, level: number) => {
    const shown = node.children.slice(0, MAX_CHILDREN_SHOWN);
    shown.forEach((child, i) => {
      rows.push({ node: child, level, setSize: node.children.length, posInSet: i + 1 });
      if (expanded.has(child.path)) walk(child, level + 1);
    });
    if (node.children.length > shown.length) rows.push({ node, level, setSize: 0, posInSet: 0, more: node.children.length - shown.length });
  };
  walk(root, 1);
  return rows;
}

function HolderSwatches({ holders, colors, directory }: { holders: Map<string, number>; colors: Map<string, string>; directory: Directory }) {
  const list = [...holders.entries()].sort((a, b) => b[1] - a[1]);
  const shown = list.slice(0, 4);
  const names = list.map(([id]) => userName(directory, id)).join(", ");
  return (
    <span class="swatches" title={names}>
      {shown.map(([id]) => (
        <span key={id} class="swatch" style={{ background: colors.get(id) ?? OTHER_COLOR }} aria-hidden="true" />
      ))}
      <span class="swatch-names">
        {shown.map(([id]) => userName(directory, id)).join(", ")}
        {list.length > shown.length ? ` +${list.length - shown.length}` : ""}
      </span>
    </span>
  );
}

const TreeRow = memo(function TreeRow(props: {
  row: Row;
  expanded: boolean;
  selected: boolean;
  focused: boolean;
  owners: string;
  colors: Map<string, string>;
  directory: Directory;
  onActivate(path: string, toggle: boolean): void;
  onFocus(path: string): void;
}) {
  const { row, expanded, selected, focused, owners, colors, directory } = props;
  const node = row.node;
  if (row.more !== undefined) {
    return (
      <li role="none" class="tree-more" style={{ paddingLeft: `${row.level * 1.1}rem` }}>
        …and {plural(row.more, "more folder")} (use “Go to path” to open one)
      </li>
    );
  }
  const hasChildren = node.children.length > 0;
  return (
    <li
      role="treeitem"
      aria-level={row.level}
      aria-setsize={row.setSize}
      aria-posinset={row.posInSet}
      aria-expanded={hasChildren ? expanded : undefined}
      aria-selected={selected}
      tabIndex={focused ? 0 : -1}
      data-path={node.path}
      class={`tree-row ${selected ? "is-selected" : ""} ${node.conflict ? "has-conflict" : ""} ${node.overlap ? "has-overlap" : ""}`}
      onClick={() => props.onActivate(node.path, true)}
      onFocus={() => props.onFocus(node.path)}
    >
      <span class="tree-indent" style={{ width: `${(row.level - 1) * 1.1}rem` }} aria-hidden="true" />
      <span class="tree-toggle" aria-hidden="true">
        {hasChildren ? (expanded ? "▾" : "▸") : "·"}
      </span>
      <span class="tree-name mono">{node.name}</span>
      <HolderSwatches holders={node.holders} colors={colors} directory={directory} />
      <span class="tree-count">{plural(node.total, "claim")}</span>
      {node.conflict ? <span class="flag flag-danger">conflict</span> : null}
      {node.overlap ? <span class="flag flag-warning">overlap</span> : null}
      {owners ? (
        <span class="tree-owners" title="CODEOWNERS">
          <span class="visually-hidden">CODEOWNERS: </span>
          {owners}
        </span>
      ) : null}
    </li>
  );
});

function ClaimTree(props: {
  root: TreeNode;
  expanded: Set<string>;
  selected: string;
  colors: Map<string, string>;
  directory: Directory;
  codeowners: OwnersLookup | null;
  onToggle(path: string): void;
  onSelect(path: string): void;
}) {
  const { root, expanded, selected } = props;
  const rows = useMemo(() => visibleRows(root, expanded), [root, expanded]);
  const [focusPath, setFocusPath] = useState<string>(selected || rows[0]?.node.path || "");
  const ownersCache = useMemo(() => new Map<string, string>(), [props.codeowners, root]);
  const list = useRef<HTMLUListElement>(null);
  const focusable = rows.some((r) => r.more === undefined && r.node.path === focusPath) ? focusPath : rows[0]?.node.path ?? "";

  const focusRow = (path: string) => {
    setFocusPath(path);
    const find = () => list.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(path)}"]`);
    // The row is usually on screen already; one just revealed appears after the next render.
    const row = find();
    if (row) row.focus();
    else requestAnimationFrame(() => find()?.focus());
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const items = rows.filter((r) => r.more === undefined);
    // The row the key was pressed on (state may lag a focus change by a render).
    const current = (e.target as HTMLElement).closest<HTMLElement>("[data-path]")?.dataset.path ?? focusable;
    const index = items.findIndex((r) => r.node.path === current);
    const row = items[index];
    if (!row) return;
    const node = row.node;
    const parentPath = node.path.includes("/") ? node.path.slice(0, node.path.lastIndexOf("/")) : "";
    switch (e.key) {
      case "ArrowDown":
        if (items[index + 1]) focusRow(items[index + 1]!.node.path);
        break;
      case "ArrowUp":
        if (items[index - 1]) focusRow(items[index - 1]!.node.path);
        break;
      case "Home":
        if (items[0]) focusRow(items[0].node.path);
        break;
      case "End":
        if (items.length) focusRow(items[items.length - 1]!.node.path);
        break;
      case "ArrowRight":
        if (node.children.length === 0) break;
        if (!expanded.has(node.path)) props.onToggle(node.path);
        else if (node.children[0]) focusRow(node.children[0].path);
        break;
      case "ArrowLeft":
        if (expanded.has(node.path)) props.onToggle(node.path);
        else if (parentPath) focusRow(parentPath);
        break;
      case "Enter":
      case " ":
        props.onSelect(node.path);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const onActivate = useCallback(
    (path: string, toggle: boolean) => {
      setFocusPath(path);
      props.onSelect(path);
      if (toggle) props.onToggle(path);
    },
    [props.onSelect, props.onToggle],
  );

  return (
    <ul ref={list} role="tree" aria-label="Claimed areas" class="tree" onKeyDown={onKeyDown}>
      {rows.map((row) => (
        <TreeRow
          key={row.more !== undefined ? `${row.node.path}/…more` : row.node.path}
          row={row}
          expanded={expanded.has(row.node.path)}
          selected={row.node.path === selected}
          focused={row.node.path === focusable && row.more === undefined}
          owners={row.more === undefined ? ownersOf(props.codeowners, row.node, ownersCache) : ""}
          colors={props.colors}
          directory={props.directory}
          onActivate={onActivate}
          onFocus={setFocusPath}
        />
      ))}
    </ul>
  );
}

type Action = { kind: "break" | "handoff"; placed: Placed } | null;

function ClaimCard({
  placed,
  overlaps,
  conflicts,
  colors,
  directory,
  canBreak,
  onAction,
}: {
  placed: Placed;
  overlaps: Overlap[];
  conflicts: ConflictRecord[];
  colors: Map<string, string>;
  directory: Directory;
  canBreak: boolean;
  onAction(action: Action): void;
}) {
  const claim = placed.claim;
  const color = colors.get(claim.userId) ?? OTHER_COLOR;
  return (
    <li class="claim-card" style={{ borderLeftColor: color }} data-claim={claim.id}>
      <p class="claim-pattern mono">{placed.pattern}</p>
      <dl class="facts">
        <div>
          <dt>Holder</dt>
          <dd>
            <span class="swatch" style={{ background: color }} aria-hidden="true" />
            {userName(directory, claim.userId)} / {claim.agentName}
          </dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{claim.mode}</dd>
        </div>
        {claim.patterns.length > 1 ? (
          <div>
            <dt>All patterns</dt>
            <dd class="mono">{claim.patterns.join(", ")}</dd>
          </div>
        ) : null}
        {claim.reason ? (
          <div>
            <dt>Reason</dt>
            <dd>{claim.reason}</dd>
          </div>
        ) : null}
        <div>
          <dt>Expires</dt>
          <dd>
            <time dateTime={claim.expiresAt} title={formatDateTime(claim.expiresAt)}>
              {relativeTime(claim.expiresAt)}
            </time>
          </dd>
        </div>
        <div>
          <dt>Granted</dt>
          <dd>
            <time dateTime={claim.grantedAt} title={formatDateTime(claim.grantedAt)}>
              {relativeTime(claim.grantedAt)}
            </time>{" "}
            · fence {claim.fence}
          </dd>
        </div>
      </dl>
      {conflicts.length > 0 ? (
        <ul class="witnesses">
          {conflicts.map((c) => (
            <li key={c.id} class="witness witness-conflict">
              <span class="flag flag-danger">conflict · {c.status}</span> with {userName(directory, c.userId === claim.userId ? c.otherUserId : c.userId)} at{" "}
              <code>{c.witness}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {overlaps.length > 0 ? (
        <ul class="witnesses">
          {overlaps.map((o, i) => {
            const other = o.a.claim.id === claim.id ? o.b : o.a;
            return (
              <li key={i} class="witness">
                <span class="flag flag-warning">overlap</span> with {userName(directory, other.claim.userId)}'s <code>{other.pattern}</code> ({other.claim.mode}) at{" "}
                <code>{o.witness}</code>
              </li>
            );
          })}
        </ul>
      ) : null}
      <div class="card-actions">
        {canBreak ? (
          <button type="button" class="button button-danger" onClick={() => onAction({ kind: "break", placed })}>
            Break claim…
          </button>
        ) : null}
        <button type="button" class="button" onClick={() => onAction({ kind: "handoff", placed })}>
          Request handoff…
        </button>
      </div>
    </li>
  );
}

function BreakForm({ placed, directory, onDone }: { placed: Placed; directory: Directory; onDone(message: string | null): void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setError("Give a reason: the holder sees it in their alert.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await api(`/v1/claims/${placed.claim.id}/break`, { method: "POST", body: { reason: reason.trim() } });
      onDone(`Claim on ${placed.pattern} broken. ${userName(directory, placed.claim.userId)} has been alerted.`);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <p>
        Break <code>{placed.pattern}</code>, held by {userName(directory, placed.claim.userId)} / {placed.claim.agentName}? The claim ends now and the holder is
        alerted with your reason.
      </p>
      <ReasonAndActions id="break-reason" reason={reason} setReason={setReason} error={error} busy={busy} onCancel={() => onDone(null)} tone="danger" label="Break claim" busyLabel="Breaking…" />
    </form>
  );
}

function HandoffForm({ placed, directory, onDone }: { placed: Placed; directory: Directory; onDone(message: string | null): void }) {
  const app = useApp();
  const sessions = useStore(app.sessions);
  const mine = useMemo(
    () => [...sessions.byId.values()].filter((s) => s.userId === app.me.user.id && s.id !== placed.claim.sessionId && (!app.me.sessionId || s.id === app.me.sessionId)),
    [sessions, app.me, placed],
  );
  const [sessionId, setSessionId] = useState(mine[0]?.id ?? "");
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  if (mine.length === 0) {
    return (
      <div>
        <p>
          A handoff is asked for on behalf of one of your own live sessions (the claim would pass to it), and you have none right now. Start a session for the
          work, then ask again{app.isLead ? ", or break the claim" : ""}.
        </p>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => onDone(null)}>
            Close
          </button>
        </div>
      </div>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setError("Give a reason: the holder sees it.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await api(`/v1/claims/${placed.claim.id}/handoff`, { method: "POST", body: { sessionId, reason: reason.trim() } });
      onDone(`Handoff requested: ${userName(directory, placed.claim.userId)} is asked to accept, decline or defer.`);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <p>
        Ask {userName(directory, placed.claim.userId)} / {placed.claim.agentName} to hand <code>{placed.pattern}</code> over.
      </p>
      <label for="handoff-session">For your session</label>
      <select id="handoff-session" value={sessionId} onChange={(e) => setSessionId((e.target as HTMLSelectElement).value)}>
        {mine.map((s) => (
          <option key={s.id} value={s.id}>
            {s.agent.name} · {s.repo} {s.task ? `· ${s.task}` : ""}
          </option>
        ))}
      </select>
      <ReasonAndActions id="handoff-reason" reason={reason} setReason={setReason} error={error} busy={busy} onCancel={() => onDone(null)} tone="primary" label="Request handoff" busyLabel="Sending…" />
    </form>
  );
}

/** After a break, the lead sees the alert the holder received (leads may read anyone's). */
function HolderAlerts({ userId, claimId, directory }: { userId: string; claimId: string; directory: Directory }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let cancelled = false;
    let tries = 0;
    const load = () =>
      api<Page<Alert>>(withQuery("/v1/alerts", { user: userId, type: "claim.broken", limit: 20 }))
        .then((page) => {
          if (cancelled) return;
          // One per event: the user's copy stands for their session's.
          const byEvent = new Map<string, Alert>();
          for (const a of page.items) {
            if (a.event.payload.claimId !== claimId) continue;
            const seen = byEvent.get(a.event.id);
            if (!seen || (seen.recipient.type !== "user" && a.recipient.type === "user")) byEvent.set(a.event.id, a);
          }
          const mine = [...byEvent.values()];
          // The alert is written with the break, so it is there; retry once in case of lag.
          if (mine.length === 0 && ++tries < 3) setTimeout(load, 500);
          else setAlerts(mine);
        })
        .catch((err: unknown) => !cancelled && setError(errorMessage(err)));
    load();
    return () => {
      cancelled = true;
    };
  }, [userId, claimId]);
  if (error) return <p class="muted">Could not read the holder's alerts: {error}</p>;
  if (!alerts) return <p class="muted">Checking the holder's alerts…</p>;
  if (alerts.length === 0) return <p class="muted">No alert found for the holder yet.</p>;
  return (
    <ul class="holder-alerts" aria-label="Alerts the holder received">
      {alerts.map((a) => (
        <li key={a.id}>
          Alert <span class="tag">{a.type}</span> delivered to {a.recipient.type === "user" ? userName(directory, a.recipient.id) : `${a.recipient.type} ${shortId(a.recipient.id)}`}{" "}
          {relativeTime(a.createdAt)} — {a.ackedAt ? "acknowledged" : "not yet acknowledged"}
        </li>
      ))}
    </ul>
  );
}

export function ClaimsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const { repos, counts } = useRepoChoices(app.isLead);
  const repo = params.get("repo") || repos[0] || "";
  const selected = params.get("path") ?? "";
  const [data, retry] = useRepoData(repo);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<Action>(null);
  const [notice, setNotice] = useState<{ text: string; holder?: string; claimId?: string } | null>(null);
  const [goTo, setGoTo] = useState("");
  const [goError, setGoError] = useState("");

  const claims = data.claims;
  const tree = useMemo(
    () => buildClaimsTree([...claims.values()], data.conflicts.map((c) => ({ id: c.id, claimId: c.claimId, otherClaimId: c.otherClaimId, witness: c.witness, status: c.status }))),
    // The map is mutated in place by live events; `version` says when.
    [claims, data.conflicts, data.version],
  );
  const colors = useMemo(() => assignColors(tree.holders.map((h) => h.userId)), [tree]);
  const codeowners = useMemo(() => {
    if (!data.codeowners) return null;
    try {
      return new OwnersLookup(data.codeowners.rules);
    } catch {
      return null;
    }
  }, [data.codeowners]);

  useEffect(() => {
    // A new repository: open the folders on the way to recorded conflicts (few), else nothing.
    const open = new Set<string>();
    for (const c of data.conflicts.slice(0, 20)) {
      const parts = c.witness.split("/");
      for (let i = 1; i < parts.length; i++) open.add(parts.slice(0, i).join("/"));
    }
    setExpanded(open);
    // only when the repository or its conflicts change
  }, [repo, data.conflicts]);

  useRenderedMark("claims", data.state === "ready", data.version);

  const select = useCallback((path: string) => navigate("claims", { repo, path }, true), [repo]);
  const toggle = useCallback(
    (path: string) =>
      setExpanded((current) => {
        const next = new Set(current);
        if (next.has(path)) next.delete(path);
        else next.add(path);
        return next;
      }),
    [],
  );

  const ROOT = ":root";
  const node = selected === ROOT ? tree.root : selected ? findNode(tree.root, selected) : undefined;
  const placed = useMemo(() => (!node ? [] : node === tree.root ? node.own.slice(0, 200) : placedUnder(node, 200)), [node, tree]);
  const overlapsOf = (claimId: string) => tree.overlaps.filter((o) => o.a.claim.id === claimId || o.b.claim.id === claimId);
  const conflictsOf = (claimId: string) => data.conflicts.filter((c) => c.claimId === claimId || c.otherClaimId === claimId);

  const openPath = (e: Event) => {
    e.preventDefault();
    const path = goTo.trim().replace(/^\/+|\/+$/g, "");
    if (!path) return;
    let found: TreeNode | undefined;
    const parts = path.split("/");
    // The deepest claimed folder on the way to the path.
    for (let i = parts.length; i > 0 && !found; i--) found = findNode(tree.root, parts.slice(0, i).join("/"));
    if (!found || found === tree.root) {
      setGoError(`No claimed area on the way to ${path}.`);
      return;
    }
    setGoError("");
    const open = new Set(expanded);
    const segments = found.path.split("/");
    for (let i = 1; i <= segments.length; i++) open.add(segments.slice(0, i).join("/"));
    setExpanded(open);
    select(found.path);
  };

  const finishAction = (message: string | null) => {
    const done = action;
    setAction(null);
    if (message && done) setNotice(done.kind === "break" ? { text: message, holder: done.placed.claim.userId, claimId: done.placed.claim.id } : { text: message });
  };

  return (
    <section aria-labelledby="claims-title" class="page">
      <div class="page-head">
        <h1 id="claims-title">Claims map</h1>
        <p class="muted">Claimed areas of a repository, coloured by holder, with overlaps, conflicts and CODEOWNERS owners.</p>
      </div>
      <div class="toolbar">
        <label for="repo-pick">Repository</label>
        {repos.length > 0 ? (
          <select id="repo-pick" value={repo} onChange={(e) => navigate("claims", { repo: (e.target as HTMLSelectElement).value })}>
            {!repos.includes(repo) && repo ? <option value={repo}>{repo}</option> : null}
            {repos.map((r) => (
              <option key={r} value={r}>
                {r} {counts.get(r) ? `(${counts.get(r)} claims)` : ""}
              </option>
            ))}
          </select>
        ) : (
          <input id="repo-pick" placeholder="github.com/acme/api" onChange={(e) => navigate("claims", { repo: (e.target as HTMLInputElement).value.trim() })} />
        )}
        <form class="goto" onSubmit={openPath}>
          <label for="goto-path">Go to path</label>
          <input id="goto-path" class="mono" placeholder="src/auth/login.ts" value={goTo} onInput={(e) => setGoTo((e.target as HTMLInputElement).value)} />
          <button type="submit" class="button">
            Open
          </button>
        </form>
      </div>
      {goError ? <p class="muted" role="status">{goError}</p> : null}
      {notice ? (
        <div class="banner banner-ok" role="status" data-testid="action-notice">
          <p>{notice.text}</p>
          {notice.holder && notice.claimId && app.isLead ? <HolderAlerts userId={notice.holder} claimId={notice.claimId} directory={directory} /> : null}
          <button type="button" class="button button-quiet" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      ) : null}

      {!repo ? (
        <Empty title="No repository has live sessions or claims yet.">Claims appear here once an agent claims an area (brigade claim, or POST /v1/claims).</Empty>
      ) : data.state === "loading" ? (
        <Loading what={`the claims of ${repo}`} />
      ) : data.state === "error" ? (
        <ErrorState title={`Could not load the claims of ${repo}`} message={data.error ?? "Unknown error"} onRetry={retry} />
      ) : claims.size === 0 ? (
        <Empty title={`No live claims in ${repo}.`}>The map fills in live as agents claim areas.</Empty>
      ) : (
        <div class="claims-layout">
          <div class="claims-tree-pane">
            <p class="muted">
              {plural(claims.size, "live claim")} · {plural(tree.patterns, "pattern")} · {plural(tree.overlaps.length, "overlap")} ·{" "}
              {plural(data.conflicts.length, "unresolved conflict")}
              {data.truncated ? " · showing the first 50,000 claims" : ""}
              {tree.overlapCheckTruncated ? " · overlap check stopped early (too many patterns)" : ""}
              {data.codeowners ? "" : " · no CODEOWNERS uploaded"}
            </p>
            <ul class="legend" aria-label="Holders">
              {tree.holders.slice(0, 12).map((h) => (
                <li key={h.userId}>
                  <span class="swatch" style={{ background: colors.get(h.userId) ?? OTHER_COLOR }} aria-hidden="true" />
                  {userName(directory, h.userId)} <span class="muted">({h.patterns})</span>
                </li>
              ))}
              {tree.holders.length > 12 ? <li class="muted">+{tree.holders.length - 12} more (grey)</li> : null}
            </ul>
            {tree.root.own.length > 0 ? (
              <button type="button" class={`button button-quiet root-claims ${selected === ROOT ? "is-selected" : ""}`} onClick={() => select(ROOT)}>
                {plural(tree.root.own.length, "pattern")} without a fixed folder (match anywhere)
              </button>
            ) : null}
            <ClaimTree
              root={tree.root}
              expanded={expanded}
              selected={selected}
              colors={colors}
              directory={directory}
              codeowners={codeowners}
              onToggle={toggle}
              onSelect={select}
            />
          </div>
          <aside class="claims-detail" aria-labelledby="detail-title">
            {node ? (
              <>
                <h2 id="detail-title" class="mono">
                  {node.path || "(patterns without a fixed folder)"}
                </h2>
                {codeowners && node.path ? <OwnersLine lookup={codeowners} node={node} /> : null}
                <p class="muted">
                  {node === tree.root
                    ? `${plural(node.own.length, "pattern")} that can match in any folder.`
                    : `${plural(node.total, "claimed pattern")} here and below${placed.length < node.total ? ` (first ${placed.length} listed)` : ""}.`}
                </p>
                <ul class="claim-cards">
                  {placed.map((p) => (
                    <ClaimCard
                      key={`${p.claim.id}:${p.pattern}`}
                      placed={p}
                      overlaps={overlapsOf(p.claim.id)}
                      conflicts={conflictsOf(p.claim.id)}
                      colors={colors}
                      directory={directory}
                      canBreak={app.isLead}
                      onAction={setAction}
                    />
                  ))}
                </ul>
              </>
            ) : (
              <>
                <h2 id="detail-title">Select an area</h2>
                <p class="muted">Choose a folder in the tree (arrow keys move, Enter selects) to see its claims, holders, witness paths and expiry.</p>
              </>
            )}
          </aside>
        </div>
      )}
      <Dialog title={action?.kind === "break" ? "Break claim" : "Request handoff"} open={action !== null} onClose={() => setAction(null)}>
        {action?.kind === "break" ? <BreakForm placed={action.placed} directory={directory} onDone={finishAction} /> : null}
        {action?.kind === "handoff" ? <HandoffForm placed={action.placed} directory={directory} onDone={finishAction} /> : null}
      </Dialog>
    </section>
  );
}

/** The reason field, the error line and Cancel / submit: the tail of the break and handoff forms. */
function ReasonAndActions(props: {
  id: string;
  reason: string;
  setReason: (reason: string) => void;
  /** Empty when there is none. */
  error: string;
  busy: boolean;
  onCancel: () => void;
  tone: "danger" | "primary";
  label: string;
  busyLabel: string;
}) {
  return (
    <>
      <label for={props.id}>Reason (required)</label>
      <textarea id={props.id} rows={3} maxLength={2000} value={props.reason} onInput={(e) => props.setReason((e.target as HTMLTextAreaElement).value)} required />
      {props.error ? (
        <p class="form-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class={`button button-${props.tone}`} disabled={props.busy}>
          {props.busy ? props.busyLabel : props.label}
        </button>
      </div>
    </>
  );
}
