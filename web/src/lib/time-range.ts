/**
 * The time range Activity, Conflicts and Trends share: chosen on any of them, kept as the others
 * are opened (and in the address, `range=7d`, so a view can be shared).
 */
export const TIME_RANGES = [
  { id: "1h", label: "last hour", ms: 3_600_000 },
  { id: "24h", label: "last 24 hours", ms: 86_400_000 },
  { id: "7d", label: "last 7 days", ms: 7 * 86_400_000 },
  { id: "14d", label: "last 14 days", ms: 14 * 86_400_000 },
  { id: "30d", label: "last 30 days", ms: 30 * 86_400_000 },
  { id: "90d", label: "last 90 days", ms: 90 * 86_400_000 },
] as const;

export type TimeRangeId = (typeof TIME_RANGES)[number]["id"];
/** A range, or "" for any time. */
export type TimeRange = TimeRangeId | "";

export function isTimeRange(value: string | null | undefined): value is TimeRange {
  return value === "" || TIME_RANGES.some((r) => r.id === value);
}

/** The range's start as an ISO time, `now` minus its length; undefined for any time. */
export function rangeStart(range: TimeRange, now = Date.now()): string | undefined {
  const r = TIME_RANGES.find((x) => x.id === range);
  return r ? new Date(now - r.ms).toISOString() : undefined;
}

/** Whole days a range covers, for the per-day trends (at least one: today); `fallback` for any time. */
export function rangeDays(range: TimeRange, fallback = 14): number {
  const r = TIME_RANGES.find((x) => x.id === range);
  return r ? Math.max(1, Math.ceil(r.ms / 86_400_000)) : fallback;
}

export function rangeLabel(range: TimeRange): string {
  return TIME_RANGES.find((x) => x.id === range)?.label ?? "any time";
}

/**
 * A window of time in an address (`from=…&to=…`, ISO times): what a chart's point opens on
 * Activity, the events of one bucket. `to` is exclusive and may be absent (up to now).
 */
export interface TimeWindow {
  from: number;
  to: number | null;
}

export function windowOf(params: URLSearchParams): TimeWindow | null {
  const from = Date.parse(params.get("from") ?? "");
  if (Number.isNaN(from)) return null;
  const to = Date.parse(params.get("to") ?? "");
  return { from, to: Number.isNaN(to) || to <= from ? null : to };
}

/** The window's address values. */
export function windowParams(window: TimeWindow): { from: string; to: string | undefined } {
  return { from: new Date(window.from).toISOString(), to: window.to === null ? undefined : new Date(window.to).toISOString() };
}

/** The `after` and `before` bounds of /v1/events for the window: both are exclusive, `from` is not. */
export function windowBounds(window: TimeWindow): { after: string; before: string | undefined } {
  return {
    after: new Date(window.from - 1).toISOString(),
    before: window.to === null ? undefined : new Date(window.to).toISOString(),
  };
}

/** The local midnight after `day` (a local midnight), whatever the DST shift. */
export function nextDay(day: number): number {
  const d = new Date(day);
  d.setDate(d.getDate() + 1);
  return d.getTime();
}
