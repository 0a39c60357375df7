import { useEffect, useRef, useState } from "preact/hooks";
import type { ChartPick, ChartSpec } from "./uplot-chart.js";

export type { ChartPick };

/** What a chart's points open: a click on a point, or Enter on the bucket chosen with the arrows. */
export interface ChartPicking {
  /** The bucket's name, "day" or "repository", in the keyboard instructions. */
  unit: string;
  /** Says what a bucket holds ("3 Dec: payments 2, search 1"), read out as the arrows move. */
  describe(index: number): string;
  onPick(pick: ChartPick): void;
}

type Drawn = { destroy(): void; setSize(s: { width: number; height: number }): void };

/**
 * A uPlot chart in a figure. The drawing is for the eye; the caption and the data table
 * under it carry the same figures for keyboard and screen-reader users. With `picking`, a point
 * opens the events behind it: clicked, or chosen with the arrow keys and opened with Enter.
 */
export function Chart({ spec, label, onDrawn, picking }: { spec: ChartSpec; label: string; onDrawn?: () => void; picking?: ChartPicking }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState("");
  const [chosen, setChosen] = useState<number | null>(null);
  const chart = useRef<{ drawn: Drawn; point(index: number): void } | null>(null);
  const pickingRef = useRef(picking);
  pickingRef.current = picking;

  useEffect(() => {
    const target = ref.current;
    if (!target) return;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    setChosen(null);
    import("./uplot-chart.js")
      .then(({ drawChart, pointAt }) => {
        if (cancelled) return;
        target.replaceChildren();
        const onPick = pickingRef.current ? (pick: ChartPick) => pickingRef.current?.onPick(pick) : undefined;
        const drawn = drawChart(target, spec, Math.max(280, target.clientWidth), onPick);
        chart.current = { drawn, point: (index) => pointAt(drawn, spec, index) };
        observer = new ResizeObserver(() => drawn.setSize({ width: Math.max(280, target.clientWidth), height: spec.height }));
        observer.observe(target);
        onDrawn?.();
      })
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart.current?.drawn.destroy();
      chart.current = null;
    };
  }, [spec]);

  const drawing = <div ref={ref} class="chart" role="img" aria-label={label} />;
  const count = spec.x.length;
  const choose = (index: number) => {
    const next = Math.max(0, Math.min(count - 1, index));
    setChosen(next);
    chart.current?.point(next);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (!picking || count === 0) return;
    const at = chosen ?? -1;
    const moves: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: chosen === null ? count - 1 : at - 1, Home: 0, End: count - 1 };
    if (e.key in moves) {
      e.preventDefault();
      choose(moves[e.key]!);
    } else if ((e.key === "Enter" || e.key === " ") && chosen !== null) {
      e.preventDefault();
      picking.onPick({ index: chosen, series: null });
    }
  };

  return (
    <>
      {error ? (
        <p class="form-error" role="alert">
          The chart could not be drawn: {error}
        </p>
      ) : null}
      {picking ? (
        // The drawing stays an image; around it, a stop for the keyboard that walks its buckets.
        <div
          class="chart-picker"
          role="group"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: the group takes arrow keys and Enter itself (its label says so); a point has no element of its own to focus.
          tabIndex={0}
          aria-label={`${label}. Arrow keys choose a ${picking.unit}, Enter opens its events.`}
          data-chosen={chosen ?? undefined}
          onKeyDown={onKeyDown}
          onBlur={() => setChosen(null)}
        >
          {drawing}
          <p class="chart-readout" aria-live="polite">
            {chosen !== null ? `${picking.describe(chosen)}. Enter opens its events.` : ""}
          </p>
        </div>
      ) : (
        drawing
      )}
    </>
  );
}
