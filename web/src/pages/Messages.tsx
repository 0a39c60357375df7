import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type { Message, MessageReceipts, Page, Thread } from "../api/types.js";
import { RepoLink } from "../components/links.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import type { Names } from "../lib/describe.js";
import { formatDateTime, plural, relativeTime, shortId } from "../lib/format.js";
import { developerHref, sessionHref, teamHref } from "../lib/links.js";
import { href } from "../lib/router.js";
import { useApp, useMessageEvents } from "../state/app.js";
import { useNames } from "../state/names.js";
import { useStore } from "../state/store.js";
import { summarise } from "../lib/threads.js";

/** Messages read per box: the newest; older threads are one search away (`brigade msg`). */
const READ_LIMIT = 200;
/** Directives whose acknowledgement tally is read (one request each). */
const TALLIED = 20;

interface Boxes {
  state: "loading" | "ready" | "error";
  error?: string;
  inbox: Message[];
  sent: Message[];
}

function Audience({ to, names }: { to: Message["to"]; names: Names }) {
  if (to.type === "organisation" || !to.id) return <>the organisation</>;
  if (to.type === "team") return <a href={teamHref(to.id)}>team {names.team(to.id)}</a>;
  if (to.type === "user") return <a href={developerHref(to.id)}>{names.user(to.id)}</a>;
  return <a href={sessionHref(to.id)}>{names.session(to.id)}</a>;
}

/** What a message is about: a path links to the code host, a conflict or claim to its view. */
function About({ about }: { about: Message["about"] }) {
  if (!about) return null;
  if (about.type === "path" && about.path) {
    return (
      <>
        about <RepoLink repo={about.id} path={about.path} />
      </>
    );
  }
  if (about.type === "contract") return <>about contract {about.id}</>;
  if (about.type === "conflict") return <>about a conflict ({shortId(about.id)})</>;
  return (
    <>
      about a {about.type} ({shortId(about.id)})
    </>
  );
}

/** A directive's acknowledgements: who has, who has not yet (live sessions of its audience). */
function Tally({ messageId, names, reloadKey }: { messageId: string; names: Names; reloadKey: number }) {
  const [receipts, setReceipts] = useState<MessageReceipts | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api<MessageReceipts>(`/v1/messages/${messageId}/receipts`)
      .then((r) => !cancelled && (setReceipts(r), setError(null)))
      .catch((err: unknown) => !cancelled && setError(errorMessage(err)));
    return () => {
      cancelled = true;
    };
  }, [messageId, reloadKey]);
  if (error) return <span class="muted">acknowledgements could not be read: {error}</span>;
  if (!receipts) return <span class="muted">counting acknowledgements…</span>;
  const acked = receipts.receipts.filter((r) => r.acknowledgedAt);
  return (
    <span class="tally" data-testid="directive-tally" data-acked={acked.length} data-pending={receipts.pending.length}>
      <span class={`flag ${receipts.pending.length === 0 ? "flag-ok" : "flag-warning"}`}>
        {acked.length} acknowledged · {receipts.pending.length} pending
      </span>
      {receipts.pending.length > 0 ? (
        <span class="muted">
          {" "}
          waiting for{" "}
          {receipts.pending.slice(0, 8).map((p, i) => (
            <span key={p.sessionId}>
              {i > 0 ? ", " : ""}
              <a href={sessionHref(p.sessionId)}>{names.session(p.sessionId)}</a>
            </span>
          ))}
          {receipts.pending.length > 8 ? ` and ${receipts.pending.length - 8} more` : ""}
        </span>
      ) : null}
    </span>
  );
}

function Overview() {
  const app = useApp();
  const names = useNames();
  const resets = useStore(app.resets);
  const [boxes, setBoxes] = useState<Boxes>({ state: "loading", inbox: [], sent: [] });
  const [reloadKey, setReloadKey] = useState(0);
  const reload = useMemo(() => () => setReloadKey((n) => n + 1), []);
  useMessageEvents(reload);

  useEffect(() => {
    let cancelled = false;
    Promise.all([
      api<Page<Message>>(withQuery("/v1/messages", { box: "inbox", limit: READ_LIMIT })),
      api<Page<Message>>(withQuery("/v1/messages", { box: "sent", limit: READ_LIMIT })),
    ])
      .then(([inbox, sent]) => !cancelled && setBoxes({ state: "ready", inbox: inbox.items, sent: sent.items }))
      .catch((err: unknown) => !cancelled && setBoxes((b) => ({ ...b, state: "error", error: errorMessage(err) })));
    return () => {
      cancelled = true;
    };
  }, [resets, reloadKey]);

  const threads = useMemo(() => summarise([...boxes.inbox, ...boxes.sent], app.me.user.id), [boxes, app.me.user.id]);
  const directives = useMemo(
    () => boxes.sent.filter((m) => m.ackRequired).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    [boxes.sent],
  );

  if (boxes.state === "loading") return <Loading what="your messages" />;
  if (boxes.state === "error")
    return <ErrorState title="Could not load your messages" message={boxes.error ?? "Unknown error"} onRetry={reload} />;
  return (
    <>
      <section aria-labelledby="directives-title" class="messages-section">
        <h2 id="directives-title">Directives you sent</h2>
        {directives.length === 0 ? (
          <p class="muted">
            None. A directive is a message its recipients acknowledge (<code>brigade msg send --ack</code>, or <code>ackRequired</code>);
            its tally shows here.
          </p>
        ) : (
          <ul class="directives">
            {directives.map((m, i) => (
              <li key={m.id} class="directive" data-message={m.id}>
                <p>
                  <a href={href("messages", { thread: m.threadId })}>
                    <strong>{m.subject}</strong>
                  </a>{" "}
                  to <Audience to={m.to} names={names} /> · {relativeTime(m.createdAt)}
                  {m.until ? <span class="muted"> · in force until {formatDateTime(m.until)}</span> : null}
                </p>
                {i < TALLIED ? <Tally messageId={m.id} names={names} reloadKey={reloadKey} /> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="threads-title" class="messages-section">
        <h2 id="threads-title">Threads</h2>
        {threads.length === 0 ? (
          <Empty title="No messages yet.">Threads you are in, and those you started, show here as they happen.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table table-stack threads-table">
              <caption class="visually-hidden">Your threads, latest first</caption>
              <thead>
                <tr>
                  <th scope="col">Subject</th>
                  <th scope="col">Last from</th>
                  <th scope="col">Messages</th>
                  <th scope="col">About</th>
                  <th scope="col">Last</th>
                </tr>
              </thead>
              <tbody>
                {threads.map((t) => (
                  <tr key={t.id} data-thread={t.id} class={t.unread > 0 ? "unread" : undefined}>
                    <td data-label="Subject">
                      <a href={href("messages", { thread: t.id })}>{t.subject}</a>
                      {t.directive ? <span class="tag">directive</span> : null}
                      {t.unread > 0 ? <span class="badge badge-danger">{t.unread} unread</span> : null}
                    </td>
                    <td data-label="Last from">
                      <a href={developerHref(t.last.from.userId)}>{names.user(t.last.from.userId)}</a>
                    </td>
                    <td data-label="Messages" class="num">
                      {t.messages.length}
                    </td>
                    <td data-label="About">
                      <About about={t.messages[0]!.about} />
                    </td>
                    <td data-label="Last">
                      <time dateTime={t.last.createdAt} title={formatDateTime(t.last.createdAt)}>
                        {relativeTime(t.last.createdAt)}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function ThreadView({ id }: { id: string }) {
  const app = useApp();
  const names = useNames();
  const resets = useStore(app.resets);
  const [thread, setThread] = useState<{ state: "loading" | "ready" | "error"; error?: string; thread?: Thread }>({ state: "loading" });
  const [reloadKey, setReloadKey] = useState(0);
  const reload = useMemo(() => () => setReloadKey((n) => n + 1), []);
  useMessageEvents(reload);

  useEffect(() => {
    let cancelled = false;
    api<Thread>(`/v1/threads/${encodeURIComponent(id)}`)
      .then((t) => {
        if (cancelled) return;
        setThread({ state: "ready", thread: t });
        document.title = `${t.subject} · Messages · Brigade`;
      })
      .catch((err: unknown) => !cancelled && setThread({ state: "error", error: errorMessage(err) }));
    return () => {
      cancelled = true;
    };
  }, [id, resets, reloadKey]);

  if (thread.state === "loading") return <Loading what="the thread" />;
  if (thread.state === "error" || !thread.thread)
    return <ErrorState title="Could not load this thread" message={thread.error ?? "Unknown error"} onRetry={reload} />;
  const t = thread.thread;
  return (
    <article aria-labelledby="thread-title" class="thread">
      <p>
        <a href={href("messages")}>All messages</a>
      </p>
      <h2 id="thread-title">
        {t.subject} {t.muted ? <span class="tag">muted</span> : null}
      </h2>
      <ol class="thread-messages">
        {t.messages.map((m) => (
          <li key={m.id} class={`thread-message importance-${m.importance}`} data-message={m.id}>
            <p class="thread-meta">
              <a href={developerHref(m.from.userId)}>{names.user(m.from.userId)}</a>
              {m.from.sessionId ? (
                <>
                  {" "}
                  (<a href={sessionHref(m.from.sessionId)}>{names.session(m.from.sessionId)}</a>)
                </>
              ) : null}{" "}
              to <Audience to={m.to} names={names} /> ·{" "}
              <time dateTime={m.createdAt} title={formatDateTime(m.createdAt)}>
                {relativeTime(m.createdAt)}
              </time>
              {m.importance !== "normal" ? (
                <span class={`flag ${m.importance === "urgent" ? "flag-danger" : ""}`}>{m.importance}</span>
              ) : null}
              {m.about ? (
                <>
                  {" · "}
                  <About about={m.about} />
                </>
              ) : null}
            </p>
            {/* Markdown shown as written: the dashboard never builds HTML from data. */}
            <div class="thread-body">{m.body}</div>
            {m.ackRequired ? (
              <p>
                <span class="tag">directive</span> <Tally messageId={m.id} names={names} reloadKey={reloadKey} />
              </p>
            ) : null}
          </li>
        ))}
      </ol>
      <p class="muted">
        {plural(t.messages.length, "message")}. Reply from the CLI (<code>brigade msg reply</code>) or an agent's tools.
      </p>
    </article>
  );
}

export function MessagesPage({ params }: { params: URLSearchParams }) {
  const thread = params.get("thread");
  useEffect(() => {
    if (!thread) document.title = "Messages · Brigade";
  }, [thread]);
  return (
    <section aria-labelledby="messages-title" class="page">
      <div class="page-head">
        <h1 id="messages-title">Messages</h1>
        <p class="muted">Your threads with agents and people, and the directives you sent with who has acknowledged them.</p>
      </div>
      {thread ? <ThreadView id={thread} /> : <Overview />}
    </section>
  );
}
