import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Loaded on demand (the Trends page only): uPlot stays out of the first load. */
export interface ChartSpec {
  kind: "time" | "bars";
  /** time: seconds since epoch; bars: category index. */
  x: number[];
  categories?: string[];
  series: { label: string; values: (number | null)[]; color: string }[];
  yLabel: string;
  /** The values are counts. */
  integer?: boolean;
  height: number;
}

/** A point (a bucket) chosen on a chart: its index along x, and the series nearest the pointer (null: all). */
export interface ChartPick {
  index: number;
  series: number | null;
}

/**
 * The series whose value at `index` is drawn nearest the pointer's height, so a click on one
 * team's line opens that team's events; null when no series has a value there.
 */
function nearestSeries(u: uPlot, spec: ChartSpec, index: number, top: number): number | null {
  let best: number | null = null;
  let distance = Number.POSITIVE_INFINITY;
  spec.series.forEach((s, i) => {
    const v = s.values[index];
    if (v === null || v === undefined) return;
    const d = Math.abs(u.valToPos(v, "y") - top);
    if (d < distance) [best, distance] = [i, d];
  });
  return best;
}

/** Points the chart's cursor at a bucket (keyboard choice), at its tallest value. */
export function pointAt(u: uPlot, spec: ChartSpec, index: number) {
  const values = spec.series.map((s) => s.values[index] ?? 0);
  u.setCursor({ left: u.valToPos(spec.x[index] ?? 0, "x"), top: u.valToPos(Math.max(0, ...values), "y") });
}

export function drawChart(target: HTMLElement, spec: ChartSpec, width: number, onPick?: (pick: ChartPick) => void): uPlot {
  const bars = spec.kind === "bars" ? uPlot.paths.bars!({ size: [0.7, 48] }) : undefined;
  const options: uPlot.Options = {
    width,
    height: spec.height,
    scales:
      spec.kind === "bars"
        ? { x: { time: false, range: [-0.5, Math.max(0.5, spec.x.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } }
        : { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [
      spec.kind === "bars"
        ? {
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (spec.categories?.[v] ?? "") : "")),
            rotate: spec.x.length > 6 ? -35 : 0,
            size: spec.x.length > 6 ? 90 : 40,
            gap: 4,
          }
        : {},
      // Counts are whole numbers: no 0.5 ticks.
      { label: spec.yLabel, size: 56, ...(spec.integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } : {}) },
    ],
    legend: { show: spec.series.length > 1 || spec.kind === "time" },
    cursor: { drag: { x: false, y: false } },
    series: [
      {
        label: spec.kind === "time" ? "Day" : "Repository",
        ...(spec.kind === "bars" ? { value: (_u: uPlot, v: number) => spec.categories?.[v] ?? "" } : {}),
      },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        fill: spec.kind === "bars" ? `${s.color}cc` : undefined,
        points: { show: true, size: 5 },
        spanGaps: false,
        ...(bars ? { paths: bars, points: { show: false } } : {}),
      })),
    ],
  };
  const chart = new uPlot(options, [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, target);
  if (onPick) {
    // A click opens the bucket under the cursor (uPlot snaps the cursor to the nearest x).
    chart.over.style.cursor = "pointer";
    chart.over.addEventListener("click", () => {
      const index = chart.cursor.idx;
      if (index === null || index === undefined) return;
      onPick({ index, series: spec.series.length > 1 ? nearestSeries(chart, spec, index, chart.cursor.top ?? 0) : 0 });
    });
  }
  return chart;
}
