import { useEffect, useState } from "preact/hooks";
import { formatDuration, formatTime } from "../lib/format.js";
import { useApp, useStreamStatus } from "../state/app.js";

const LABELS = { live: "Live", connecting: "Connecting…", offline: "Offline — reconnecting", stopped: "Stopped" } as const;

/** Live / offline in the top bar; the label (not the ticking duration) is announced. */
export function StreamIndicator() {
  const app = useApp();
  const status = useStreamStatus(app.stream);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (status.state !== "offline") return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status.state]);

  return (
    <span class={`stream stream-${status.state}`} data-stream={status.state}>
      <span class="stream-dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        {LABELS[status.state]}
      </span>
      {status.state === "offline" ? (
        <span class="stream-for" aria-hidden="true">{` ${formatDuration(Math.max(0, now - status.since))}`}</span>
      ) : null}
    </span>
  );
}

/** Under the top bar while the stream is down: what is shown may be out of date. */
export function OfflineBanner() {
  const app = useApp();
  const status = useStreamStatus(app.stream);
  if (status.state !== "offline") return null;
  return (
    <p class="banner banner-warning" data-testid="offline-banner">
      Live updates are paused: the connection to the server was lost at {formatTime(new Date(status.since).toISOString())}. Reconnecting
      {status.attempts > 1 ? ` (attempt ${status.attempts})` : ""}… What you see may be out of date; nothing is lost, the page catches up
      when the connection returns.
    </p>
  );
}
