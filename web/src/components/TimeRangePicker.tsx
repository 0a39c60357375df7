import { useEffect } from "preact/hooks";
import { isTimeRange, TIME_RANGES, type TimeRange } from "../lib/time-range.js";
import { Store, useStore } from "../state/store.js";

const KEY = "brigade.range";

function stored(): TimeRange {
  try {
    const value = sessionStorage.getItem(KEY);
    return isTimeRange(value) ? value : "";
  } catch {
    return "";
  }
}

/** The range shared by the pages of one tab (kept in its sessionStorage across reloads). */
export const sharedRange = new Store<TimeRange>(stored());

function choose(range: TimeRange) {
  sharedRange.set(range);
  try {
    sessionStorage.setItem(KEY, range);
  } catch {
    // The range still holds for this page's life.
  }
}

/**
 * The page's range: `range=` in its address when there is one (a shared link), else the one
 * last chosen on any page.
 */
export function useTimeRange(params: URLSearchParams): TimeRange {
  const fromAddress = params.get("range");
  const shared = useStore(sharedRange);
  const valid = isTimeRange(fromAddress) ? fromAddress : null;
  useEffect(() => {
    if (valid !== null && valid !== sharedRange.value) choose(valid);
  }, [valid]);
  return valid ?? shared;
}

/**
 * The one time-range control of Activity, Conflicts and Trends. `anyTime` offers "any time"
 * (Trends needs a bounded range); `onChange` puts the range in the page's address.
 */
export function TimeRangePicker({
  value,
  onChange,
  anyTime = true,
  fallback,
}: {
  value: TimeRange;
  onChange(range: TimeRange): void;
  anyTime?: boolean;
  /** What "any time" means on a page that cannot show it. */
  fallback?: TimeRange;
}) {
  const shown = value === "" && !anyTime ? (fallback ?? "14d") : value;
  return (
    <div class="field time-range">
      <label for="time-range">Time range</label>
      <select
        id="time-range"
        value={shown}
        onChange={(e) => {
          const next = (e.target as HTMLSelectElement).value;
          if (!isTimeRange(next)) return;
          choose(next);
          onChange(next);
        }}
      >
        {anyTime ? <option value="">any time</option> : null}
        {TIME_RANGES.map((r) => (
          <option key={r.id} value={r.id}>
            {r.label}
          </option>
        ))}
      </select>
    </div>
  );
}
