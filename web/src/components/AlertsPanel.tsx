import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { Alert, Page } from "../api/types.js";
import { describeEvent, eventTone } from "../lib/describe.js";
import { formatDateTime, relativeTime } from "../lib/format.js";
import { useApp } from "../state/app.js";
import { useNames } from "../state/names.js";

const KEEP = 100;

/** The signed-in user's own alerts (or the session's, for a session token), live. */
export function AlertsButton() {
  const app = useApp();
  const names = useNames();
  const namesRef = useRef(names);
  namesRef.current = names;
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState("");
  const [open, setOpen] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const panel = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    let cancelled = false;
    // One line per event: an event addressed to the user and to their session is one alert
    // to read (acking the user's copy acks the sessions' too).
    const merge = (incoming: Alert[]) =>
      setAlerts((current) => {
        const byEvent = new Map(current.map((a) => [a.event.id, a]));
        let changed = false;
        const fresh: Alert[] = [];
        for (const alert of incoming) {
          const existing = byEvent.get(alert.event.id);
          if (existing?.id === alert.id) continue;
          if (existing && (existing.recipient.type === "user" || alert.recipient.type !== "user")) continue;
          changed = true;
          if (existing) byEvent.set(alert.event.id, alert);
          else {
            byEvent.set(alert.event.id, alert);
            fresh.push(alert);
          }
        }
        if (!changed) return current;
        const replaced = current.map((a) => byEvent.get(a.event.id) ?? a);
        return [...fresh.reverse(), ...replaced].slice(0, KEEP);
      });
    const readLatest = () => api<Page<Alert>>(withQuery("/v1/alerts", { limit: 50 }));
    // Live and the latest page start together; the page may be read before the subscription is
    // in place on the server, so once it is, the page is read again. Alerts merge by id.
    const unsubscribe = app.stream.subscribe(
      "mine",
      { topic: "alerts" },
      {
        onAlerts: (incoming) => {
          merge(incoming);
          const last = incoming[incoming.length - 1];
          if (last) setAnnouncement(`New alert: ${describeEvent(last.event, namesRef.current)}`);
        },
        onLive: () => {
          readLatest()
            .then((page) => !cancelled && merge([...page.items].reverse()))
            // The first read's failure is shown; a failed second read leaves the list as it was.
            .catch(() => {});
        },
      },
    );
    readLatest()
      .then((page) => {
        if (cancelled) return;
        merge([...page.items].reverse());
        setState("ready");
      })
      .catch((err: unknown) => {
        if (cancelled) return;
        setError(errorMessage(err));
        setState("error");
      });
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [app.stream]);

  useEffect(() => {
    if (!open) return;
    panel.current?.querySelector<HTMLElement>("h2")?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);

  const unacked = alerts.filter((a) => a.ackedAt === null).length;

  const ack = async (alert: Alert) => {
    try {
      const acked = await api<Alert>(`/v1/alerts/${alert.id}/ack`, { method: "POST", body: {} });
      setAlerts((current) =>
        current.map((a) => (a.event.id === alert.event.id ? { ...a, ackedAt: acked.ackedAt ?? new Date().toISOString() } : a)),
      );
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <div class="alerts">
      <button
        ref={button}
        type="button"
        class="button alerts-button"
        aria-expanded={open}
        aria-controls="alerts-panel"
        onClick={() => setOpen(!open)}
      >
        Alerts
        <span class={`badge ${unacked > 0 ? "badge-danger" : ""}`} data-testid="alerts-count">
          {unacked}
        </span>
        <span class="visually-hidden"> unacknowledged</span>
      </button>
      <span class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </span>
      <div ref={panel} id="alerts-panel" class="alerts-panel" hidden={!open} role="region" aria-label="Your alerts">
        <h2 tabIndex={-1}>Your alerts</h2>
        {state === "loading" ? <p>Loading alerts…</p> : null}
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        {state === "ready" && alerts.length === 0 ? (
          <p class="muted">No alerts. Conflicts, broken claims and contract changes that concern you appear here.</p>
        ) : null}
        <ul class="alerts-list">
          {alerts.map((alert) => (
            <li
              key={alert.event.id}
              class={`alert-item tone-${eventTone(alert.type)} ${alert.ackedAt ? "is-acked" : ""}`}
              data-alert-type={alert.type}
            >
              <p class="alert-text">{describeEvent(alert.event, names)}</p>
              <p class="alert-meta">
                <span class="tag">{alert.type}</span>{" "}
                <time dateTime={alert.createdAt} title={formatDateTime(alert.createdAt)}>
                  {relativeTime(alert.createdAt)}
                </time>
                {alert.event.repo ? <span class="muted"> · {alert.event.repo}</span> : null}
              </p>
              {alert.ackedAt ? (
                <span class="muted">Acknowledged</span>
              ) : (
                <button type="button" class="button button-small" onClick={() => void ack(alert)}>
                  Acknowledge
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
