import { useEffect } from "preact/hooks";

/**
 * Performance marks the benchmark reads (bench/scenarios/dashboard.ts): `brigade:<page>:data`
 * when a page's data has arrived, `brigade:<page>:rendered` once the page showing it has been
 * committed and painted (Preact runs effects after the next frame), and the measure
 * `brigade:<page>:render` between the two.
 */
export function markDataArrived(page: string) {
  performance.mark(`brigade:${page}:data`);
}

export function useRenderedMark(page: string, ready: boolean, version: unknown) {
  useEffect(() => {
    if (!ready) return;
    const start = `brigade:${page}:data`;
    if (performance.getEntriesByName(start, "mark").length === 0) return;
    performance.mark(`brigade:${page}:rendered`);
    performance.measure(`brigade:${page}:render`, start, `brigade:${page}:rendered`);
    performance.clearMarks(start);
  }, [page, ready, version]);
}
