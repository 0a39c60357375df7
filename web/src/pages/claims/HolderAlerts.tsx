import { useEffect, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../../api/client.js";
import type { Alert, Page } from "../../api/types.js";
import { relativeTime, shortId } from "../../lib/format.js";
import { userName, type Directory } from "../../state/app.js";

/** After a break, the lead sees the alert the holder received (leads may read anyone's). */
export function HolderAlerts({ userId, claimId, directory }: { userId: string; claimId: string; directory: Directory }) {
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
            if (a.event.type !== "claim.broken" || a.event.payload.claimId !== claimId) continue;
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
          Alert <span class="tag">{a.type}</span> delivered to{" "}
          {a.recipient.type === "user" ? userName(directory, a.recipient.id) : `${a.recipient.type} ${shortId(a.recipient.id)}`}{" "}
          {relativeTime(a.createdAt)} — {a.ackedAt ? "acknowledged" : "not yet acknowledged"}
        </li>
      ))}
    </ul>
  );
}
