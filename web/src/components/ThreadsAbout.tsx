import { FormMessage } from "./states.js";
import { useEffect, useId, useMemo, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { Message, Page } from "../api/types.js";
import { formatDateTime, plural, relativeTime } from "../lib/format.js";
import { developerHref } from "../lib/links.js";
import { href } from "../lib/router.js";
import { summarise } from "../lib/threads.js";
import { useApp, useMessageEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import { useStore } from "../state/store.js";

/** Messages read about one object: its threads are few; a long one opens on Messages. */
const READ_LIMIT = 100;
/** The newest messages of a thread shown beside the object. */
const SHOWN = 3;

export type AboutKind = "claim" | "conflict" | "handoff" | "contract";
/** Who a new thread about the object goes to (a party's session), with how to name them. */
export interface Addressee {
  sessionId: string;
  label: string;
}

/**
 * The threads about a claim or a conflict (issue 19: "the thread beside each object"): every
 * message about it the viewer may read (GET /v1/messages?box=all&aboutType=…&aboutId=…), by
 * thread, its newest messages shown and the whole thread a link away; and a way to start one
 * with a party's session. Live: message events read it again.
 */
export function ThreadsAbout({ kind, id, to, lazy = false }: { kind: AboutKind; id: string; to: Addressee[]; lazy?: boolean }) {
  const [open, setOpen] = useState(!lazy);
  if (!open)
    return (
      <div class="threads-about" data-testid="threads-about" data-about={id}>
        <button type="button" class="button button-small button-quiet" onClick={() => setOpen(true)}>
          Threads about this {kind}
        </button>
      </div>
    );
  return <Threads kind={kind} id={id} to={to} />;
}

function Threads({ kind, id, to }: { kind: AboutKind; id: string; to: Addressee[] }) {
  const app = useApp();
  const names = useNames();
  const resets = useStore(app.resets);
  const [state, setState] = useState<{ state: "loading" | "ready" | "error"; error?: string; items: Message[] }>({
    state: "loading",
    items: [],
  });
  const [reloadKey, setReloadKey] = useState(0);
  const reload = useMemo(() => () => setReloadKey((n) => n + 1), []);
  useMessageEvents(reload);

  useEffect(() => {
    let cancelled = false;
    api<Page<Message>>(withQuery("/v1/messages", { box: "all", aboutType: kind, aboutId: id, limit: READ_LIMIT }))
      .then((page) => !cancelled && setState({ state: "ready", items: page.items }))
      .catch((err: unknown) => !cancelled && setState({ state: "error", error: errorMessage(err), items: [] }));
    return () => {
      cancelled = true;
    };
  }, [kind, id, resets, reloadKey]);

  const threads = useMemo(() => summarise(state.items, app.me.user.id), [state.items, app.me.user.id]);
  // One object can show twice on a page (a claim's card under each of its patterns): ids from useId.
  const headingId = useId();

  return (
    <section class="threads-about" aria-labelledby={headingId} data-testid="threads-about" data-about={id}>
      <h3 id={headingId} class="threads-about-title">
        Threads about this {kind}
        {state.state === "ready" ? <span class="badge">{threads.length}</span> : null}
      </h3>
      {state.state === "loading" ? (
        <p class="muted">Reading the threads…</p>
      ) : state.state === "error" ? (
        <p class="form-error">Could not read the threads: {state.error}</p>
      ) : threads.length === 0 ? (
        <p class="muted">No thread about this {kind} that you may read.</p>
      ) : (
        <ul class="threads-about-list">
          {threads.map((t) => (
            <li key={t.id} data-thread={t.id}>
              <p>
                <a href={href("messages", { thread: t.id })}>
                  <strong>{t.subject}</strong>
                </a>{" "}
                <span class="muted">
                  · {plural(t.messages.length, "message")}
                  {t.unread > 0 ? ` · ${t.unread} unread` : ""}
                </span>
              </p>
              <ol class="thread-messages thread-messages-brief">
                {t.messages.slice(-SHOWN).map((m) => (
                  <li key={m.id} class="thread-message" data-message={m.id}>
                    <p class="thread-meta">
                      <a href={developerHref(m.from.userId)}>{names.user(m.from.userId)}</a> ·{" "}
                      <time dateTime={m.createdAt} title={formatDateTime(m.createdAt)}>
                        {relativeTime(m.createdAt)}
                      </time>
                    </p>
                    {/* Markdown shown as written: the dashboard never builds HTML from data. */}
                    <div class="thread-body">{m.body}</div>
                  </li>
                ))}
              </ol>
              {t.messages.length > SHOWN ? (
                <p>
                  <a href={href("messages", { thread: t.id })}>
                    All {t.messages.length} messages<span class="visually-hidden"> of “{t.subject}”</span>
                  </a>
                </p>
              ) : null}
              <ReplyForm parentId={t.last.id} subject={t.subject} onSent={reload} />
            </li>
          ))}
        </ul>
      )}
      {app.me.via !== "session" && to.length > 0 ? <StartThread kind={kind} id={id} to={to} onSent={reload} /> : null}
    </section>
  );
}

/** A reply in the thread, in plain text (shown as written); it appears with the thread's next read. */
function ReplyForm({ parentId, subject, onSent }: { parentId: string; subject: string; onSent(): void }) {
  const [body, setBody] = useState("");
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await api<Message>(`/v1/messages/${encodeURIComponent(parentId)}/replies`, { method: "POST", body: { body } });
      setBody("");
      setMessage({ error: false, text: "Reply sent." });
      onSent();
    } catch (err) {
      setMessage({ error: true, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="reply-form" data-testid="reply-form" onSubmit={(e) => void send(e)}>
      <label for={`${id}-reply`}>
        Reply<span class="visually-hidden"> to “{subject}”</span>
      </label>
      <textarea id={`${id}-reply`} rows={2} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
      <button type="submit" class="button button-small" disabled={busy || !body.trim()}>
        {busy ? "Sending…" : "Send reply"}
      </button>
      <FormMessage message={message} />
    </form>
  );
}

/** A new thread about the object, to one of its parties' sessions; replies follow on Messages or in the agent's tools. */
function StartThread({ kind, id, to, onSent }: { kind: AboutKind; id: string; to: Addressee[]; onSent(): void }) {
  const [recipient, setRecipient] = useState(to[0]!.sessionId);
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const base = useId();
  const field = (name: string) => `${base}-${name}`;
  useEffect(() => {
    if (!to.some((a) => a.sessionId === recipient)) setRecipient(to[0]!.sessionId);
  }, [to, recipient]);

  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const sent = await api<Message>("/v1/messages", {
        method: "POST",
        body: { to: { type: "session", id: recipient }, subject, body, about: { type: kind, id } },
      });
      setSubject("");
      setBody("");
      setMessage({ error: false, text: `Sent: “${sent.subject}”.` });
      onSent();
    } catch (err) {
      setMessage({ error: true, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="start-thread">
      <summary>Start a thread about this {kind}</summary>
      <form onSubmit={(e) => void send(e)}>
        {to.length > 1 ? (
          <div class="field">
            <label for={field("to")}>To</label>
            <select id={field("to")} value={recipient} onChange={(e) => setRecipient((e.target as HTMLSelectElement).value)}>
              {to.map((a) => (
                <option key={a.sessionId} value={a.sessionId}>
                  {a.label}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <p class="muted">To {to[0]!.label}</p>
        )}
        <div class="field">
          <label for={field("subject")}>Subject</label>
          <input id={field("subject")} value={subject} maxLength={200} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for={field("body")}>Message</label>
          <textarea id={field("body")} rows={3} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        </div>
        <button type="submit" class="button" disabled={busy || !subject.trim() || !body.trim()}>
          {busy ? "Sending…" : "Send"}
        </button>
        <FormMessage message={message} />
      </form>
    </details>
  );
}
