import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { errorMessage, readAll } from "../api/client.js";
import type { BrigadeEvent } from "../api/types.js";
import { Chart, type ChartPicking } from "../components/Chart.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { TimeRangePicker, useTimeRange } from "../components/TimeRangePicker.js";
import type { ChartSpec } from "../components/uplot-chart.js";
import { HOLDER_COLORS, OTHER_COLOR } from "../lib/colors.js";
import { formatDay, formatDuration } from "../lib/format.js";
import { markDataArrived, useRenderedMark } from "../lib/perf.js";
import { href, navigate } from "../lib/router.js";
import { nextDay, rangeDays, windowParams } from "../lib/time-range.js";
import { computeTrends, type Trends } from "../lib/trends.js";
import { useApp, useDirectory } from "../state/app.js";
import { useStore } from "../state/store.js";

/** Events read per range at most: trends over a huge log stay bounded (and say so). */
const MAX_EVENTS = 100_000;
const MAX_TEAM_SERIES = 8;
const MAX_REPOS = 15;

interface Data {
  state: "loading" | "ready" | "error";
  error?: string;
  conflicts: BrigadeEvent[];
  claims: BrigadeEvent[];
  truncated: boolean;
  from: number;
  to: number;
}

/** Activity's address for the events behind a point: its bucket of time, its type, its team or repository. */
function eventsHref(from: number, to: number | null, filters: { type: string; team?: string | undefined; repo?: string | undefined }) {
  return href("activity", { ...filters, ...windowParams({ from, to }) });
}

/** Follows a chart point's link as a click on it would (history keeps Trends to come back to). */
function openEvents(link: string) {
  location.hash = link;
}

function DataTable({
  caption,
  head,
  rows,
  links,
}: {
  caption: string;
  head: string[];
  rows: (string | number)[][];
  /** Per row, the events behind it: the row's name links there. */
  links?: string[];
}) {
  return (
    <details class="data-table">
      <summary>Show the data as a table</summary>
      <div class="table-wrap">
        <table class="table">
          <caption>{caption}</caption>
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((cell, j) =>
                  j === 0 ? (
                    <th key={j} scope="row">
                      {links?.[i] ? (
                        <a href={links[i]} title="The events behind this row, on Activity">
                          {cell}
                        </a>
                      ) : (
                        cell
                      )}
                    </th>
                  ) : (
                    <td key={j}>{cell}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function TrendsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const directory = useDirectory();
  const resets = useStore(app.resets);
  // The shared range, in whole days (today at least); "any time" is the last 14 days here.
  const range = useTimeRange(params);
  const days = rangeDays(range, 14);
  const [data, setData] = useState<Data>({ state: "loading", conflicts: [], claims: [], truncated: false, from: 0, to: 0 });
  const [attempt, setAttempt] = useState(0);
  const [drawn, setDrawn] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    start.setDate(start.getDate() - (days - 1));
    const from = start.getTime();
    const to = Date.now();
    const after = new Date(from).toISOString();
    setData({ state: "loading", conflicts: [], claims: [], truncated: false, from, to });
    setDrawn(0);
    Promise.all([
      readAll<BrigadeEvent>("/v1/events", { type: "conflict.opened", after, limit: 1000 }, { max: MAX_EVENTS }),
      readAll<BrigadeEvent>("/v1/events", { type: "claim.", after, limit: 1000 }, { max: MAX_EVENTS }),
    ])
      .then(([conflicts, claims]) => {
        if (cancelled) return;
        markDataArrived("trends");
        setData({
          state: "ready",
          conflicts: conflicts.items,
          claims: claims.items,
          truncated: conflicts.truncated || claims.truncated,
          from,
          to,
        });
      })
      .catch((err: unknown) => !cancelled && setData((d) => ({ ...d, state: "error", error: errorMessage(err) })));
    return () => {
      cancelled = true;
    };
  }, [days, resets, attempt]);

  const trends: Trends | null = useMemo(() => {
    if (data.state !== "ready" || directory.state !== "ready") return null;
    return computeTrends({
      from: data.from,
      to: data.to,
      conflicts: data.conflicts,
      claims: data.claims,
      teamsOf: (userId) => (directory.teamsOfUser.get(userId) ?? []).map((t) => t.name),
    });
  }, [data, directory]);

  const specs = useMemo(() => {
    if (!trends) return null;
    const x = trends.days.map((d) => d / 1000);
    const teams = trends.conflictsByTeam.slice(0, MAX_TEAM_SERIES);
    const conflicts: ChartSpec = {
      kind: "time",
      x,
      series: teams.map((t, i) => ({ label: t.team, values: t.counts, color: HOLDER_COLORS[i] ?? OTHER_COLOR })),
      yLabel: "conflicts",
      integer: true,
      height: 240,
    };
    const repos = trends.claimsByRepo.slice(0, MAX_REPOS);
    const claims: ChartSpec = {
      kind: "bars",
      x: repos.map((_, i) => i),
      categories: repos.map((r) => r.repo.split("/").slice(-1)[0] ?? r.repo),
      series: [{ label: "claims granted", values: repos.map((r) => r.count), color: HOLDER_COLORS[0] }],
      yLabel: "claims",
      integer: true,
      height: 260,
    };
    const durations: ChartSpec = {
      kind: "time",
      x,
      series: [
        {
          label: "median minutes held",
          values: trends.medianMinutesByDay.map((v) => (v === null ? null : Math.round(v * 10) / 10)),
          color: HOLDER_COLORS[2],
        },
      ],
      yLabel: "minutes",
      height: 220,
    };
    return { conflicts, claims, durations, teams, repos };
  }, [trends]);

  // What each chart's points open on Activity: the conflicts opened that day (of the team whose
  // line was clicked), the claims granted in a repository over the range, the claims that ended that day.
  const links = useMemo(() => {
    if (!trends || !specs) return null;
    const day = (i: number) => [trends.days[i]!, nextDay(trends.days[i]!)] as const;
    const teamId = (name: string) => directory.teams.find((t) => t.name === name)?.id;
    const conflictsOn = (i: number, team?: string) => eventsHref(...day(i), { type: "conflict.opened", team: team && teamId(team) });
    const claimsIn = (repo: string) => eventsHref(data.from, null, { type: "claim.granted", repo });
    const endedOn = (i: number) => eventsHref(...day(i), { type: "claim." });
    const dayText = (i: number) => formatDay(trends.days[i]!);
    const conflicts: ChartPicking = {
      unit: "day",
      describe: (i) => `${dayText(i)}: ${specs.teams.map((t) => `${t.team} ${t.counts[i] ?? 0}`).join(", ")}`,
      onPick: ({ index, series }) => openEvents(conflictsOn(index, series === null ? undefined : specs.teams[series]?.team)),
    };
    const claims: ChartPicking = {
      unit: "repository",
      describe: (i) => `${specs.repos[i]?.repo ?? ""}: ${specs.repos[i]?.count ?? 0} claims granted`,
      onPick: ({ index }) => specs.repos[index] && openEvents(claimsIn(specs.repos[index].repo)),
    };
    const durations: ChartPicking = {
      unit: "day",
      describe: (i) => {
        const m = trends.medianMinutesByDay[i];
        return `${dayText(i)}: ${m === null || m === undefined ? "no claim ended" : `median ${Math.round(m * 10) / 10} minutes`}`;
      },
      onPick: ({ index }) => openEvents(endedOn(index)),
    };
    return {
      conflicts,
      claims,
      durations,
      conflictRows: trends.days.map((_, i) => conflictsOn(i)),
      claimRows: specs.repos.map((r) => claimsIn(r.repo)),
      durationRows: trends.days.map((_, i) => endedOn(i)),
    };
  }, [trends, specs, directory, data.from]);

  const chartCount = specs
    ? (specs.teams.length > 0 ? 1 : 0) + (specs.repos.length > 0 ? 1 : 0) + (trends && trends.measuredClaims > 0 ? 1 : 0)
    : 0;
  const onDrawn = useCallback(() => setDrawn((n) => n + 1), []);
  useRenderedMark("trends", specs !== null && drawn >= chartCount, specs);

  return (
    <section aria-labelledby="trends-title" class="page">
      <div class="page-head">
        <h1 id="trends-title">Trends</h1>
        <p class="muted">
          Computed in your browser from the event log. A point or bar opens the events behind it on Activity (click it, or focus the chart
          and use the arrow keys and Enter).
        </p>
      </div>
      <div class="toolbar">
        <TimeRangePicker value={range} anyTime={false} onChange={(next) => navigate("trends", { range: next }, true)} />
        <button type="button" class="button" onClick={() => setAttempt((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {data.state === "loading" || (data.state === "ready" && directory.state === "loading") ? (
        <Loading what={days === 1 ? "today's events" : `the last ${days} days of events`} />
      ) : data.state === "error" ? (
        <ErrorState title="Could not read the event log" message={data.error ?? "Unknown error"} onRetry={() => setAttempt((n) => n + 1)} />
      ) : !trends || !specs ? null : (
        <>
          {data.truncated ? (
            <p class="banner banner-warning">
              The range holds more than {MAX_EVENTS.toLocaleString()} events of a kind; the charts use the first ones.
            </p>
          ) : null}
          <div class="charts">
            <figure class="chart-card">
              <figcaption>
                <h2>Conflicts per day, by team</h2>
                <p class="muted">A conflict counts for each team of either party.</p>
              </figcaption>
              {specs.teams.length === 0 ? (
                <Empty title="No conflicts in this range." />
              ) : (
                <>
                  <Chart
                    spec={specs.conflicts}
                    label={`Conflicts per day by team: ${specs.teams.map((t) => `${t.team} ${t.total}`).join(", ")}`}
                    onDrawn={onDrawn}
                    picking={links?.conflicts}
                  />
                  <DataTable
                    links={links?.conflictRows}
                    caption="Conflicts opened per day and team"
                    head={["Day", ...specs.teams.map((t) => t.team)]}
                    rows={trends.days.map((d, i) => [formatDay(d), ...specs.teams.map((t) => t.counts[i] ?? 0)])}
                  />
                </>
              )}
            </figure>
            <figure class="chart-card">
              <figcaption>
                <h2>Claims granted per repository</h2>
                <p class="muted">The {MAX_REPOS} busiest repositories.</p>
              </figcaption>
              {specs.repos.length === 0 ? (
                <Empty title="No claims in this range." />
              ) : (
                <>
                  <Chart
                    spec={specs.claims}
                    label={`Claims per repository: ${specs.repos.map((r) => `${r.repo} ${r.count}`).join(", ")}`}
                    onDrawn={onDrawn}
                    picking={links?.claims}
                  />
                  <DataTable
                    links={links?.claimRows}
                    caption="Claims granted per repository"
                    head={["Repository", "Claims"]}
                    rows={specs.repos.map((r) => [r.repo, r.count])}
                  />
                </>
              )}
            </figure>
            <figure class="chart-card">
              <figcaption>
                <h2>Median claim duration</h2>
                <p class="muted">
                  {trends.medianMinutes === null
                    ? "No claim both started and ended in this range."
                    : `Median ${formatDuration(trends.medianMinutes * 60_000)} over ${trends.measuredClaims.toLocaleString()} claims that started and ended in the range; the chart shows it by the day they ended, in minutes.`}
                </p>
              </figcaption>
              {trends.measuredClaims > 0 ? (
                <>
                  <Chart
                    spec={specs.durations}
                    label={`Median claim duration per day; overall ${Math.round((trends.medianMinutes ?? 0) * 10) / 10} minutes`}
                    onDrawn={onDrawn}
                    picking={links?.durations}
                  />
                  <DataTable
                    links={links?.durationRows}
                    caption="Median minutes a claim was held, per day"
                    head={["Day", "Median minutes"]}
                    rows={trends.days.map((d, i) => [
                      formatDay(d),
                      trends.medianMinutesByDay[i] === null ? "—" : Math.round(trends.medianMinutesByDay[i]! * 10) / 10,
                    ])}
                  />
                </>
              ) : null}
            </figure>
          </div>
        </>
      )}
    </section>
  );
}
