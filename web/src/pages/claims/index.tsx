import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { Dialog } from "../../components/Dialog.js";
import { RepoLink } from "../../components/links.js";
import { Empty, ErrorState, Loading } from "../../components/states.js";
import { useQueue } from "../../components/Waiting.js";
import type { QueueEntry } from "../../api/types.js";
import { buildClaimsTree, findNode, placedUnder, type TreeNode } from "../../lib/claims-tree.js";
import { assignColors, OTHER_COLOR } from "../../lib/colors.js";
import { plural } from "../../lib/format.js";
import { OwnersLookup } from "../../lib/owners.js";
import { useRenderedMark } from "../../lib/perf.js";
import { navigate } from "../../lib/router.js";
import { useApp, useDirectory, userName } from "../../state/app.js";
import { BreakForm, HandoffForm } from "./ActionForms.js";
import { ClaimCard, type Action } from "./ClaimCard.js";
import { ClaimTree } from "./ClaimTree.js";
import { OwnersLine } from "./codeowners.js";
import { useRepoChoices, useRepoData } from "./data.js";
import { HolderAlerts } from "./HolderAlerts.js";

/** Claim cards that read their threads at once; those further down read them when asked. */
const EAGER_THREADS = 8;

export function ClaimsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const { repos, counts } = useRepoChoices(app.isLead);
  const repo = params.get("repo") || repos[0] || "";
  const selected = params.get("path") ?? "";
  const [data, retry] = useRepoData(repo);
  // Who waits for which claim: the queue's waiting entries of this repository, kept live.
  const queue = useQueue(useMemo(() => ({ repo }), [repo]));
  const waitersOf = useMemo(() => {
    const by = new Map<string, QueueEntry[]>();
    for (const entry of queue.items)
      for (const blocker of entry.waitingFor) {
        const list = by.get(blocker.claimId);
        if (list) list.push(entry);
        else by.set(blocker.claimId, [entry]);
      }
    return by;
  }, [queue.items]);
  // Conflicts between agents of one developer can be left out of the map (`same=hide`).
  const hideSame = params.get("same") === "hide";
  const conflicts = useMemo(() => (hideSame ? data.conflicts.filter((c) => !c.sameDeveloper) : data.conflicts), [data.conflicts, hideSame]);
  const sameCount = useMemo(() => data.conflicts.filter((c) => c.sameDeveloper).length, [data.conflicts]);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<Action>(null);
  const [notice, setNotice] = useState<{ text: string; holder?: string; claimId?: string } | null>(null);
  const [goTo, setGoTo] = useState("");
  const [goError, setGoError] = useState("");

  const claims = data.claims;
  const tree = useMemo(
    () =>
      buildClaimsTree(
        [...claims.values()],
        conflicts.map((c) => ({
          id: c.id,
          claimId: c.claimId,
          otherClaimId: c.otherClaimId,
          witness: c.witness,
          status: c.status,
          overlap: c.overlap,
        })),
      ),
    // The map is mutated in place by live events; `version` says when.
    [claims, conflicts, data.version],
  );
  const colors = useMemo(() => assignColors(tree.holders.map((h) => h.userId)), [tree]);
  // Indexing a large CODEOWNERS file (2,000 rules: ~150 ms) waits until the tree has been drawn:
  // the folders and their holders show at once, the owners column a frame later.
  const [codeowners, setCodeowners] = useState<OwnersLookup | null>(null);
  useEffect(() => {
    setCodeowners(null);
    if (!data.codeowners) return;
    let cancelled = false;
    const frame = requestAnimationFrame(() =>
      setTimeout(() => {
        if (cancelled) return;
        try {
          setCodeowners(new OwnersLookup(data.codeowners!.rules));
        } catch {
          setCodeowners(null);
        }
      }, 0),
    );
    return () => {
      cancelled = true;
      cancelAnimationFrame(frame);
    };
  }, [data.codeowners]);

  useEffect(() => {
    // A new repository: open the folders on the way to recorded conflicts (few), else nothing.
    const open = new Set<string>();
    for (const c of conflicts.slice(0, 20)) {
      const parts = c.witness.split("/");
      for (let i = 1; i < parts.length; i++) open.add(parts.slice(0, i).join("/"));
    }
    setExpanded(open);
    // only when the repository or its conflicts change
  }, [repo, conflicts]);

  useRenderedMark("claims", data.state === "ready", data.version);

  const select = useCallback(
    (path: string) => navigate("claims", { repo, path, same: hideSame ? "hide" : undefined }, true),
    [repo, hideSame],
  );
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
  const conflictsOf = (claimId: string) => conflicts.filter((c) => c.claimId === claimId || c.otherClaimId === claimId);

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
    if (message && done)
      setNotice(
        done.kind === "break" ? { text: message, holder: done.placed.claim.userId, claimId: done.placed.claim.id } : { text: message },
      );
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
          <input
            id="repo-pick"
            placeholder="github.com/acme/api"
            onChange={(e) => navigate("claims", { repo: (e.target as HTMLInputElement).value.trim() })}
          />
        )}
        {repo ? <RepoLink repo={repo} /> : null}
        <form class="goto" onSubmit={openPath}>
          <label for="goto-path">Go to path</label>
          <input
            id="goto-path"
            class="mono"
            placeholder="src/auth/login.ts"
            value={goTo}
            onInput={(e) => setGoTo((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="button">
            Open
          </button>
        </form>
      </div>
      {goError ? (
        <p class="muted" role="status">
          {goError}
        </p>
      ) : null}
      {notice ? (
        <div class="banner banner-ok" role="status" data-testid="action-notice">
          <p>{notice.text}</p>
          {notice.holder && notice.claimId && app.isLead ? (
            <HolderAlerts userId={notice.holder} claimId={notice.claimId} directory={directory} />
          ) : null}
          <button type="button" class="button button-quiet" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      ) : null}

      {!repo ? (
        <Empty title="No repository has live sessions or claims yet.">
          Claims appear here once an agent claims an area (brigade claim, or POST /v1/claims).
        </Empty>
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
              {plural(conflicts.length, "unresolved conflict")}
              {queue.items.length > 0 ? ` · ${plural(queue.items.length, "request")} waiting in the queue` : ""}
              {sameCount > 0 ? (
                <>
                  {" "}
                  ({hideSame ? `${sameCount} of one developer's agents left out` : `${sameCount} of one developer's agents`}){" "}
                  <label class="inline-check">
                    <input
                      type="checkbox"
                      checked={hideSame}
                      onChange={(e) =>
                        navigate(
                          "claims",
                          { repo, path: selected || undefined, same: (e.target as HTMLInputElement).checked ? "hide" : undefined },
                          true,
                        )
                      }
                    />{" "}
                    leave out same-developer conflicts
                  </label>
                </>
              ) : null}
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
              <button
                type="button"
                class={`button button-quiet root-claims ${selected === ROOT ? "is-selected" : ""}`}
                onClick={() => select(ROOT)}
              >
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
                  {node.path ? <RepoLink repo={repo} path={node.path} dir /> : "(patterns without a fixed folder)"}
                </h2>
                {codeowners && node.path ? <OwnersLine repo={repo} lookup={codeowners} node={node} /> : null}
                <p class="muted">
                  {node === tree.root
                    ? `${plural(node.own.length, "pattern")} that can match in any folder.`
                    : `${plural(node.total, "claimed pattern")} here and below${placed.length < node.total ? ` (first ${placed.length} listed)` : ""}.`}
                </p>
                <ul class="claim-cards">
                  {placed.map((p, i) => (
                    <ClaimCard
                      lazyThread={i >= EAGER_THREADS}
                      repo={repo}
                      key={`${p.claim.id}:${p.pattern}`}
                      placed={p}
                      overlaps={overlapsOf(p.claim.id)}
                      conflicts={conflictsOf(p.claim.id)}
                      waiters={waitersOf.get(p.claim.id) ?? []}
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
                <p class="muted">
                  Choose a folder in the tree (arrow keys move, Enter selects) to see its claims, holders, witness paths and expiry.
                </p>
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
