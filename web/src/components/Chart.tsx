import { useEffect, useRef, useState } from "preact/hooks";
import type { ChartSpec } from "./uplot-chart.js";

/**
 * A uPlot chart in a figure. The drawing is for the eye; the caption and the data table
 * under it carry the same figures for keyboard and screen-reader users.
 */
export function Chart({ spec, label, onDrawn }: { spec: ChartSpec; label: string; onDrawn?: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const target = ref.current;
    if (!target) return;
    let chart: { destroy(): void; setSize(s: { width: number; height: number }): void } | null = null;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    import("./uplot-chart.js")
      .then(({ drawChart }) => {
        if (cancelled) return;
        target.replaceChildren();
        chart = drawChart(target, spec, Math.max(280, target.clientWidth));
        observer = new ResizeObserver(() => chart?.setSize({ width: Math.max(280, target.clientWidth), height: spec.height }));
        observer.observe(target);
        onDrawn?.();
      })
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart?.destroy();
    };
  }, [spec]);
  return (
    <>
      {error ? (
        <p class="form-error" role="alert">
          The chart could not be drawn: {error}
        </p>
      ) : null}
      <div ref={ref} class="chart" role="img" aria-label={label} />
    </>
  );
}
