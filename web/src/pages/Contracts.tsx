import { ThreadsAbout } from "../components/ThreadsAbout.js";
import { Fragment } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorMessage, withQuery } from "../api/client.js";
import type {
  ChangeSummary,
  Contract,
  ContractChange,
  ContractConsumer,
  ContractProposal,
  ContractVersion,
  ContractVersionDetail,
  Page,
} from "../api/types.js";
import { External, RepoLink } from "../components/links.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatDateTime, plural, relativeTime } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { documentLines, foldUnchanged, sideBySide, type DiffBlock, type DiffRow } from "../lib/line-diff.js";
import { patternTarget, repoLinks } from "../lib/links.js";
import { useLinkTemplates } from "../state/link-templates.js";
import { href } from "../lib/router.js";
import { useApp, useDirectory, useLiveEvents, teamName, userName, type Directory } from "../state/app.js";
import { throttle, useStore } from "../state/store.js";

interface ListState {
  state: "loading" | "ready" | "error";
  error?: string;
  items: Contract[];
}

interface DetailState {
  state: "loading" | "ready" | "error";
  error?: string;
  versions: ContractVersion[];
  latest: ContractVersionDetail | null;
  proposals: ContractProposal[];
}

const LEVEL_ORDER: Record<string, number> = { breaking: 0, unclassified: 1, "non-breaking": 2, annotation: 3 };
const LEVEL_LABEL: Record<string, string> = {
  breaking: "Breaking",
  "non-breaking": "Non-breaking",
  annotation: "Annotation",
  unclassified: "Unclassified",
};

function Summary({ summary }: { summary: ChangeSummary }) {
  return (
    <span class="summary">
      {summary.breaking > 0 ? <span class="flag flag-danger">{plural(summary.breaking, "breaking change")}</span> : null}
      {(summary.dangerous ?? 0) > 0 ? <span class="flag flag-warning">{summary.dangerous} dangerous</span> : null}
      {summary.nonBreaking > 0 ? <span class="flag">{summary.nonBreaking} non-breaking</span> : null}
      {summary.annotation > 0 ? <span class="flag">{summary.annotation} annotation</span> : null}
      {summary.unclassified > 0 ? <span class="flag flag-warning">{summary.unclassified} unclassified</span> : null}
      {summary.breaking + (summary.dangerous ?? 0) + summary.nonBreaking + summary.annotation + summary.unclassified === 0 ? (
        <span class="muted">no changes</span>
      ) : null}
    </span>
  );
}

function Changes({ changes, total, caption }: { changes: ContractChange[]; total: number; caption: string }) {
  const sorted = useMemo(() => [...changes].sort((a, b) => (LEVEL_ORDER[a.level] ?? 9) - (LEVEL_ORDER[b.level] ?? 9)), [changes]);
  if (sorted.length === 0) return <p class="muted">No changes from the previous version.</p>;
  return (
    <div class="table-wrap">
      <table class="table changes-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Level</th>
            <th scope="col">Where</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((c, i) => (
            <tr key={i} class={`change-${c.level}`} data-level={c.level}>
              <td>
                <span class={`level level-${c.level}`}>{LEVEL_LABEL[c.level] ?? c.level}</span>
              </td>
              <td class="mono">{c.location}</td>
              <td>{c.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > sorted.length ? <p class="muted">{total - sorted.length} more changes not shown.</p> : null}
    </div>
  );
}

type DiffState =
  | { state: "closed" | "loading" }
  | { state: "error"; error: string }
  | { state: "ready"; blocks: DiffBlock[]; added: number; removed: number };

function DiffLine({ row }: { row: DiffRow }) {
  const mark = (side: "left" | "right") =>
    row.kind === "same" ? "" : row.kind === "changed" ? "diff-changed" : side === "left" ? "diff-removed" : "diff-added";
  return (
    <tr class={`diff-row diff-${row.kind}`} data-kind={row.kind}>
      <td class="diff-no">{row.left?.no ?? ""}</td>
      <td class={`diff-text ${row.left ? mark("left") : "diff-empty"}`}>
        {row.left && row.kind !== "same" ? <span class="visually-hidden">{row.kind === "changed" ? "changed: " : "removed: "}</span> : null}
        {row.left?.text ?? ""}
      </td>
      <td class="diff-no">{row.right?.no ?? ""}</td>
      <td class={`diff-text ${row.right ? mark("right") : "diff-empty"}`}>
        {row.right && row.kind !== "same" ? <span class="visually-hidden">{row.kind === "changed" ? "changed: " : "added: "}</span> : null}
        {row.right?.text ?? ""}
      </td>
    </tr>
  );
}

function SkippedLines({ block }: { block: Extract<DiffBlock, { kind: "skip" }> }) {
  const [open, setOpen] = useState(false);
  if (open)
    return (
      <>
        {block.rows.map((r, i) => (
          <DiffLine key={i} row={r} />
        ))}
      </>
    );
  return (
    <tr class="diff-skip">
      <td colSpan={4}>
        <button type="button" class="button button-small button-quiet" onClick={() => setOpen(true)}>
          Show {plural(block.count, "unchanged line")}
        </button>
      </td>
    </tr>
  );
}

/**
 * The proposed document beside the version it starts from, line by line, changed lines marked;
 * read when opened (both documents can be large).
 */
function ProposalDiff({ contract, proposal }: { contract: string; proposal: ContractProposal }) {
  const [diff, setDiff] = useState<DiffState>({ state: "closed" });
  const name = encodeURIComponent(contract);
  const load = () => {
    if (diff.state !== "closed" && diff.state !== "error") return;
    setDiff({ state: "loading" });
    Promise.all([
      api<ContractProposal>(`/v1/contracts/${name}/proposals/${proposal.id}`),
      proposal.baseLabel
        ? api<ContractVersionDetail>(`/v1/contracts/${name}/versions/${encodeURIComponent(proposal.baseLabel)}`)
        : Promise.resolve(null),
    ])
      .then(([full, base]) => {
        const rows = sideBySide(documentLines(base?.content ?? ""), documentLines(full.content ?? ""));
        setDiff({
          state: "ready",
          blocks: foldUnchanged(rows),
          added: rows.filter((r) => r.right && r.kind !== "same").length,
          removed: rows.filter((r) => r.left && r.kind !== "same").length,
        });
      })
      .catch((err: unknown) => setDiff({ state: "error", error: errorMessage(err) }));
  };
  const from = proposal.baseLabel ?? "nothing (the first version)";
  const to = proposal.label ?? "the proposal";
  return (
    <details class="proposal-diff" data-testid="proposal-diff" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && load()}>
      <summary>
        Side by side: {from} and {to}
      </summary>
      {diff.state === "loading" ? (
        <Loading what="both documents" />
      ) : diff.state === "error" ? (
        <ErrorState title="Could not load the documents" message={diff.error} onRetry={load} />
      ) : diff.state === "ready" ? (
        <>
          <p class="muted">
            {plural(diff.removed, "line")} removed or changed on the left, {plural(diff.added, "line")} added or changed on the right.
          </p>
          <div class="table-wrap">
            <table class="table diff-table">
              <caption class="visually-hidden">
                {from} on the left, {to} on the right, line by line
              </caption>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Line in {from}</span>
                  </th>
                  <th scope="col">{from}</th>
                  <th scope="col">
                    <span class="visually-hidden">Line in {to}</span>
                  </th>
                  <th scope="col">{to}</th>
                </tr>
              </thead>
              <tbody>
                {diff.blocks.map((b, i) =>
                  b.kind === "skip" ? <SkippedLines key={i} block={b} /> : b.rows.map((r, j) => <DiffLine key={`${i}:${j}`} row={r} />),
                )}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </details>
  );
}

/** A repository and patterns in it: the repository, and each pattern's file or folder, link out. */
function PatternLinks({ repo, patterns }: { repo: string; patterns: string[] }) {
  return (
    <>
      <RepoLink repo={repo} />:{" "}
      {patterns.map((pattern, i) => {
        const target = patternTarget(pattern);
        return (
          <Fragment key={pattern}>
            {i > 0 ? ", " : null}
            {target ? <PatternLink repo={repo} pattern={pattern} path={target.path} dir={target.dir} /> : <code>{pattern}</code>}
          </Fragment>
        );
      })}
    </>
  );
}

function PatternLink({ repo, pattern, path, dir }: { repo: string; pattern: string; path: string; dir: boolean }) {
  const links = repoLinks(repo, useLinkTemplates());
  return (
    <span class="repo-link">
      <code>{pattern}</code>
      {links ? <External url={dir ? links.dir(path) : links.file(path)} label={`Open ${path} on the code host`} /> : null}
    </span>
  );
}

function consumerText(c: ContractConsumer, directory: Directory): string {
  if (c.kind === "team") return `team ${teamName(directory, c.teamId)}`;
  if (c.kind === "user") return userName(directory, c.userId);
  return `${c.repo ?? "repo"} (${(c.patterns ?? []).join(", ")})`;
}

function ContractDetail({ contract, directory, refreshKey }: { contract: Contract; directory: Directory; refreshKey: number }) {
  const [detail, setDetail] = useState<DetailState>({ state: "loading", versions: [], latest: null, proposals: [] });
  const [attempt, setAttempt] = useState(0);
  const name = encodeURIComponent(contract.name);

  useEffect(() => {
    let cancelled = false;
    setDetail((d) => ({ ...d, state: d.versions.length > 0 && d.latest?.id === contract.latestVersion?.id ? d.state : "loading" }));
    Promise.all([
      api<Page<ContractVersion>>(withQuery(`/v1/contracts/${name}/versions`, { limit: 50 })),
      contract.latestVersion ? api<ContractVersionDetail>(`/v1/contracts/${name}/versions/latest`) : Promise.resolve(null),
      api<Page<ContractProposal>>(withQuery(`/v1/contracts/${name}/proposals`, { limit: 50 })),
    ])
      .then(([versions, latest, proposals]) => {
        if (cancelled) return;
        markDataArrived("contracts");
        setDetail({ state: "ready", versions: [...versions.items].sort((a, b) => b.seq - a.seq), latest, proposals: proposals.items });
      })
      .catch(
        (err: unknown) => !cancelled && setDetail({ state: "error", error: errorMessage(err), versions: [], latest: null, proposals: [] }),
      );
    return () => {
      cancelled = true;
    };
  }, [name, contract.latestVersion?.id, refreshKey, attempt]);

  useRenderedMark("contracts", detail.state === "ready", detail);

  const consumerNames = new Map(contract.consumers.map((c) => [c.id, consumerText(c, directory)]));
  const latest = detail.latest;
  return (
    <article class="contract-detail" aria-labelledby="contract-title">
      <h2 id="contract-title">
        {contract.name} <span class="tag">{contract.kind}</span>{" "}
        {contract.status !== "active" ? <span class="tag">{contract.status}</span> : null}
      </h2>
      {contract.description ? <p>{contract.description}</p> : null}
      <dl class="facts">
        <div>
          <dt>Provider</dt>
          <dd>{teamName(directory, contract.providerTeamId)}</dd>
        </div>
        <div>
          <dt>Policy</dt>
          <dd>{contract.compatibility}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd class="mono" data-testid="contract-source">
            {contract.source ? <PatternLinks repo={contract.source.repo} patterns={contract.source.patterns} /> : "—"}
          </dd>
        </div>
        <div>
          <dt>Consumers</dt>
          <dd>
            {contract.consumers.length === 0 ? "none declared" : contract.consumers.map((c) => consumerText(c, directory)).join("; ")}
          </dd>
        </div>
      </dl>

      {detail.state === "loading" ? (
        <Loading what="versions" />
      ) : detail.state === "error" ? (
        <ErrorState
          title="Could not load this contract's versions"
          message={detail.error ?? "Unknown error"}
          onRetry={() => setAttempt((n) => n + 1)}
        />
      ) : (
        <>
          <section aria-labelledby="latest-title">
            <h3 id="latest-title">Latest version{latest ? `: ${latest.label}` : ""}</h3>
            {!latest ? (
              <Empty title="No version published yet." />
            ) : (
              <>
                <p>
                  {latest.previousLabel ? `From ${latest.previousLabel} to ${latest.label}` : "First version"} · published by{" "}
                  {userName(directory, latest.publishedBy)} {relativeTime(latest.createdAt)} · <Summary summary={latest.summary} />
                </p>
                {latest.forced ? (
                  <p class="banner banner-danger" data-testid="forced-version">
                    Published despite breaking the <strong>{latest.compatibility.policy}</strong> policy. Reason given:{" "}
                    {latest.forceReason ?? "none"}
                  </p>
                ) : null}
                <Changes changes={latest.changes} total={latest.changesTotal} caption={`Changes in ${latest.label}, breaking first`} />
              </>
            )}
          </section>

          <section aria-labelledby="timeline-title">
            <h3 id="timeline-title">Version timeline</h3>
            {detail.versions.length === 0 ? (
              <p class="muted">No versions.</p>
            ) : (
              <ol class="timeline">
                {detail.versions.map((v) => (
                  <li key={v.id} class={v.summary.breaking > 0 ? "timeline-breaking" : ""}>
                    <span class="timeline-label mono">{v.label}</span>
                    <time dateTime={v.createdAt} title={formatDateTime(v.createdAt)}>
                      {relativeTime(v.createdAt)}
                    </time>
                    <span>by {userName(directory, v.publishedBy)}</span>
                    <Summary summary={v.summary} />
                    {v.forced ? <span class="flag flag-danger">forced: {v.forceReason}</span> : null}
                    {!v.compatibility.compatible && !v.forced ? <span class="flag flag-warning">incompatible</span> : null}
                  </li>
                ))}
              </ol>
            )}
          </section>

          <section aria-labelledby="proposals-title">
            <h3 id="proposals-title">Proposals</h3>
            {detail.proposals.length === 0 ? (
              <p class="muted">No proposals. Providers propose a change before coding it; consumers ack or object here.</p>
            ) : (
              <ul class="proposals">
                {detail.proposals.map((p) => (
                  <li key={p.id} class={`proposal proposal-${p.status}`}>
                    <p>
                      <strong>{p.label ?? "Unlabelled proposal"}</strong> <span class="tag">{p.status}</span>{" "}
                      <span class={`flag ${p.verdict === "objected" ? "flag-danger" : p.verdict === "acked" ? "flag-ok" : ""}`}>
                        {p.verdict}
                      </span>{" "}
                      · by {userName(directory, p.proposedBy)} {relativeTime(p.createdAt)} · <Summary summary={p.summary} />
                    </p>
                    {p.description ? <p>{p.description}</p> : null}
                    {p.changes.length > 0 ? (
                      // Which changes, not just how many: breaking ones first, as for a version.
                      <div data-testid="proposal-changes">
                        <Changes
                          changes={p.changes}
                          total={p.changesTotal}
                          caption={`Changes proposed${p.baseLabel ? ` from ${p.baseLabel}` : ""}${p.label ? ` to ${p.label}` : ""}, breaking first`}
                        />
                      </div>
                    ) : null}
                    <ProposalDiff contract={contract.name} proposal={p} />
                    <ul class="answers">
                      {p.answers.map((a) => (
                        <li key={a.consumerId}>
                          {consumerNames.get(a.consumerId) ?? "a consumer"}: <strong>{a.answer === "ack" ? "acked" : "objected"}</strong>
                          {a.comment ? ` — ${a.comment}` : ""} <span class="muted">({userName(directory, a.answeredBy)})</span>
                        </li>
                      ))}
                      {p.pending.map((id) => (
                        <li key={id} class="muted">
                          {consumerNames.get(id) ?? "a consumer"}: no answer yet
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
      {/* Threads name a contract by its name, as the CLI and the agents' tools do. */}
      <ThreadsAbout kind="contract" id={contract.name} to={[]} />
    </article>
  );
}

export function ContractsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const resets = useStore(app.resets);
  const [list, setList] = useState<ListState>({ state: "loading", items: [] });
  const [attempt, setAttempt] = useState(0);
  const [refreshKey, setRefreshKey] = useState(0);

  const load = useMemo(
    () => (initial: boolean) => {
      if (initial) setList({ state: "loading", items: [] });
      api<Page<Contract>>(withQuery("/v1/contracts", { limit: 200 }))
        .then((page) => {
          if (initial) markDataArrived("contracts");
          setList({ state: "ready", items: [...page.items].sort((a, b) => a.name.localeCompare(b.name)) });
          setRefreshKey((n) => n + 1);
        })
        .catch((err: unknown) => setList((l) => (l.state === "ready" ? l : { state: "error", error: errorMessage(err), items: [] })));
    },
    [],
  );
  const refresh = useMemo(() => throttle(() => load(false), 1_000), [load]);

  useEffect(() => {
    load(true);
    return () => refresh.cancel();
  }, [load, refresh, resets, attempt]);

  useLiveEvents((events) => {
    if (events.some((e) => e.type.startsWith("contract."))) refresh();
  });

  const selectedName = params.get("name") ?? list.items[0]?.name ?? "";
  const selected = list.items.find((c) => c.name === selectedName);
  useRenderedMark("contracts", list.state === "ready" && !selected, list.items);

  return (
    <section aria-labelledby="contracts-title" class="page">
      <div class="page-head">
        <h1 id="contracts-title">Contracts</h1>
        <p class="muted">Interfaces between teams: versions, breaking changes, consumers and proposals.</p>
      </div>
      {list.state === "loading" ? (
        <Loading what="contracts" />
      ) : list.state === "error" ? (
        <ErrorState title="Could not load the contracts" message={list.error ?? "Unknown error"} onRetry={() => setAttempt((n) => n + 1)} />
      ) : list.items.length === 0 ? (
        <Empty title="No contracts yet.">
          A provider team creates one with POST /v1/contracts and publishes versions; consumers are alerted of every change.
        </Empty>
      ) : (
        <div class="contracts-layout">
          <nav aria-label="Contracts" class="contract-list">
            <ul>
              {list.items.map((c) => (
                <li key={c.id}>
                  <a href={href("contracts", { name: c.name })} aria-current={c.name === selectedName ? "true" : undefined}>
                    <span class="mono">{c.name}</span> <span class="tag">{c.kind}</span>
                    <span class="muted contract-meta">
                      {teamName(directory, c.providerTeamId)} · {c.latestVersion ? c.latestVersion.label : "no version"} ·{" "}
                      {plural(c.consumers.length, "consumer")}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {selected ? (
            <ContractDetail contract={selected} directory={directory} refreshKey={refreshKey} />
          ) : (
            <Empty title={`No contract named ${selectedName}.`} />
          )}
        </div>
      )}
    </section>
  );
}
