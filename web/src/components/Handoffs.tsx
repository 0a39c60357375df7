import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorMessage } from "../api/client.js";
import type { Handoff } from "../api/types.js";
import { formatDateTime, relativeTime } from "../lib/format.js";

import { developerHref } from "../lib/links.js";
import { useApp, useLiveEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import { throttle, useStore } from "../state/store.js";
import { ThreadsAbout } from "./ThreadsAbout.js";

/** How a handoff request stands, in words. */
const STATUS: Record<Handoff["status"], string> = {
  pending: "waiting for an answer",
  accepted: "accepted: the claim was transferred",
  declined: "declined",
  deferred: "deferred",
  cancelled: "cancelled",
};

/**
 * The handoff requests for a claim, newest first, each with the threads about it beside it
 * (issue 22: threads beside handoffs) so a lead sees who asked, why, how the holder answered,
 * and what was said. Nothing when the claim has none. Live: a handoff event about this claim
 * reads them again.
 */
export function Handoffs(props: { claimId: string; holderSessionId: string; holderLabel: string; lazy?: boolean }) {
  const [open, setOpen] = useState(!props.lazy);
  if (!open)
    return (
      <div class="claim-handoffs" data-testid="claim-handoffs">
        <button type="button" class="button button-small button-quiet" onClick={() => setOpen(true)}>
          Handoff requests for this claim
        </button>
      </div>
    );
  return <HandoffList {...props} />;
}

function HandoffList({ claimId, holderSessionId, holderLabel }: { claimId: string; holderSessionId: string; holderLabel: string }) {
  const app = useApp();
  const names = useNames();
  const resets = useStore(app.resets);
  const [state, setState] = useState<{ items: Handoff[]; error: string | null }>({ items: [], error: null });
  const [reloadKey, setReloadKey] = useState(0);
  const reload = useMemo(() => throttle(() => setReloadKey((n) => n + 1), 1_000), []);
  useEffect(() => () => reload.cancel(), [reload]);
  useLiveEvents((events) => {
    if (events.some((e) => e.type.startsWith("handoff.") && (e.payload as { claimId?: string }).claimId === claimId)) reload();
  });

  useEffect(() => {
    let cancelled = false;
    api<{ items: Handoff[] }>(`/v1/claims/${encodeURIComponent(claimId)}/handoffs`)
      .then((page) => !cancelled && setState({ items: page.items, error: null }))
      .catch((err: unknown) => !cancelled && setState({ items: [], error: errorMessage(err) }));
    return () => {
      cancelled = true;
    };
  }, [claimId, resets, reloadKey]);

  if (state.error) return <p class="form-error">Could not read the handoff requests: {state.error}</p>;
  if (state.items.length === 0)
    return (
      <p class="muted claim-handoffs" data-testid="claim-handoffs">
        No handoff requests for this claim.
      </p>
    );
  return (
    <div class="claim-handoffs" data-testid="claim-handoffs">
      <p class="muted">Handoff requests for this claim:</p>
      <ul class="handoff-list">
        {state.items.map((h) => (
          <li key={h.id} data-handoff={h.id} data-status={h.status}>
            <p>
              <a href={developerHref(h.requesterUserId)}>{names.session(h.requesterSessionId)}</a> asked{" "}
              <time dateTime={h.createdAt} title={formatDateTime(h.createdAt)}>
                {relativeTime(h.createdAt)}
              </time>
              : “{h.reason}” — <strong>{STATUS[h.status]}</strong>
              {h.note ? <> (“{h.note}”)</> : null}
              {h.eta ? (
                <>
                  , until <time dateTime={h.eta}>{formatDateTime(h.eta)}</time>
                </>
              ) : null}
            </p>
            <ThreadsAbout
              kind="handoff"
              id={h.id}
              to={[
                { sessionId: h.requesterSessionId, label: `${names.user(h.requesterUserId)} (who asked)` },
                { sessionId: holderSessionId, label: holderLabel },
              ]}
              lazy={h.status !== "pending"}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}
