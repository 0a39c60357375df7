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

export function drawChart(target: HTMLElement, spec: ChartSpec, width: number): uPlot {
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
  return new uPlot(options, [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, target);
}
