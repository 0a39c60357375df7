import { useMemo, useState } from "preact/hooks";
import { api, errorMessage } from "../../api/client.js";
import type { Placed } from "../../lib/claims-tree.js";
import { useApp, userName, type Directory } from "../../state/app.js";
import { useStore } from "../../state/store.js";

export function BreakForm({ placed, directory, onDone }: { placed: Placed; directory: Directory; onDone(message: string | null): void }) {
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
        Break <code>{placed.pattern}</code>, held by {userName(directory, placed.claim.userId)} / {placed.claim.agentName}? The claim ends
        now and the holder is alerted with your reason.
      </p>
      <ReasonAndActions
        id="break-reason"
        reason={reason}
        setReason={setReason}
        error={error}
        busy={busy}
        onCancel={() => onDone(null)}
        tone="danger"
        label="Break claim"
        busyLabel="Breaking…"
      />
    </form>
  );
}

export function HandoffForm({ placed, directory, onDone }: { placed: Placed; directory: Directory; onDone(message: string | null): void }) {
  const app = useApp();
  const sessions = useStore(app.sessions);
  const mine = useMemo(
    () =>
      [...sessions.byId.values()].filter(
        (s) => s.userId === app.me.user.id && s.id !== placed.claim.sessionId && (!app.me.sessionId || s.id === app.me.sessionId),
      ),
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
          A handoff is asked for on behalf of one of your own live sessions (the claim would pass to it), and you have none right now. Start
          a session for the work, then ask again{app.isLead ? ", or break the claim" : ""}.
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
      <ReasonAndActions
        id="handoff-reason"
        reason={reason}
        setReason={setReason}
        error={error}
        busy={busy}
        onCancel={() => onDone(null)}
        tone="primary"
        label="Request handoff"
        busyLabel="Sending…"
      />
    </form>
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
      <textarea
        id={props.id}
        rows={3}
        maxLength={2000}
        value={props.reason}
        onInput={(e) => props.setReason((e.target as HTMLTextAreaElement).value)}
        required
      />
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
