import { OverlapBadge } from "../../components/OverlapBadge.js";
import type { ConflictRecord, QueueEntry } from "../../api/types.js";
import { RepoLink } from "../../components/links.js";
import { SameDeveloperMark } from "../../components/SameDeveloper.js";
import { Handoffs } from "../../components/Handoffs.js";
import { ThreadsAbout } from "../../components/ThreadsAbout.js";
import { WaitingList } from "../../components/Waiting.js";
import type { Overlap, Placed } from "../../lib/claims-tree.js";
import { OTHER_COLOR } from "../../lib/colors.js";
import { formatDateTime, relativeTime } from "../../lib/format.js";
import { userName, type Directory } from "../../state/app.js";

export type Action = { kind: "break" | "handoff"; placed: Placed } | null;

export function ClaimCard({
  repo,
  placed,
  overlaps,
  conflicts,
  waiters,
  colors,
  directory,
  canBreak,
  onAction,
  lazyThread,
}: {
  repo: string;
  placed: Placed;
  overlaps: Overlap[];
  conflicts: ConflictRecord[];
  /** Queue entries this claim blocks now. */
  waiters: QueueEntry[];
  colors: Map<string, string>;
  directory: Directory;
  canBreak: boolean;
  onAction(action: Action): void;
  /** Many cards at once: each reads its threads and handoff requests only when asked. */
  lazyThread: boolean;
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
              <span class={`flag ${c.overlap === "latent" ? "flag-latent" : "flag-danger"}`}>conflict · {c.status}</span> with{" "}
              {c.sameDeveloper
                ? "another agent of the same holder"
                : userName(directory, c.userId === claim.userId ? c.otherUserId : c.userId)}{" "}
              at <RepoLink repo={repo} path={c.witness} />
              <OverlapBadge overlap={c.overlap} realCount={c.realCount} />
              {c.sameDeveloper ? <SameDeveloperMark /> : null}
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
                <span class="flag flag-warning">overlap</span> with {userName(directory, other.claim.userId)}'s <code>{other.pattern}</code>{" "}
                ({other.claim.mode}) at <RepoLink repo={repo} path={o.witness} />
              </li>
            );
          })}
        </ul>
      ) : null}
      {waiters.length > 0 ? (
        <div class="claim-waiters" data-testid="claim-waiters">
          <p class="muted">Waiting for this claim:</p>
          <WaitingList entries={waiters} empty="" />
        </div>
      ) : null}
      <Handoffs
        claimId={claim.id}
        holderSessionId={claim.sessionId}
        holderLabel={`${userName(directory, claim.userId)} / ${claim.agentName} (the holder)`}
        lazy={lazyThread}
      />
      <ThreadsAbout
        kind="claim"
        id={claim.id}
        to={[{ sessionId: claim.sessionId, label: `${userName(directory, claim.userId)} / ${claim.agentName} (the holder)` }]}
        lazy={lazyThread}
      />
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
