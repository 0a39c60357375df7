/** Small formatting helpers; everything they return is plain text (Preact escapes it). */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "12 s", "3 min", "2 h 5 min", "4 d" for a duration in milliseconds. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.max(0, Math.round(abs / SECOND))} s`;
  if (abs < HOUR) return `${Math.round(abs / MINUTE)} min`;
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.round((abs - h * HOUR) / MINUTE);
    return m > 0 && h < 10 ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.round(abs / DAY)} d`;
}

/** "12 s ago" / "in 3 min", relative to `now`. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "unknown";
  const delta = now - t;
  if (Math.abs(delta) < 2 * SECOND) return "just now";
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export const formatDateTime = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(t);
};
export const formatTime = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : timeOnly.format(t);
};
export const formatDay = (ms: number) => dayOnly.format(ms);

/** The distinctive end of a UUIDv7 (its start is a timestamp shared by neighbours). */
export const shortId = (id: string) => id.replace(/-/g, "").slice(-6);

/**
 * What `n.toLocaleString()` says, from one formatter: toLocaleString builds a new one on every
 * call, which cost the claims map ~90 ms for its few thousand counts (tree rows, swatches).
 */
const counting = new Intl.NumberFormat();
export const formatCount = (n: number) => counting.format(n);

export const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;
