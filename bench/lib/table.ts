import type { JudgedRow, Row, Target } from "./types.js";

/** Applies a row's target and ceiling: the verdict and ratio every printer shows. */
export function judge(row: Row): JudgedRow {
  const ratio = typeof row.value === "number" && row.ceiling !== undefined && row.ceiling > 0 ? row.value / row.ceiling : null;
  let pass: boolean | null = row.ok ?? null;
  if (pass === null && row.target) pass = meets(row.value, row.target);
  return { ...row, ratio, pass };
}

function meets(value: number | string, target: Target): boolean {
  if (target.op === "=") return value === target.value;
  // A non-numeric value (e.g. "n/a" after a failed phase) never meets a numeric goal.
  if (typeof value !== "number" || typeof target.value !== "number" || Number.isNaN(value)) return false;
  return target.op === ">=" ? value >= target.value : value <= target.value;
}

const numberFormat = (digits: number) => new Intl.NumberFormat("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const formats = [numberFormat(0), numberFormat(1), numberFormat(2)] as const;

/** Big numbers as integers with separators, small ones with enough decimals to compare. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100 || Number.isInteger(n)) return formats[0].format(n);
  return (abs >= 10 ? formats[1] : formats[2]).format(n);
}

const withUnit = (value: number | string, unit: string | undefined) =>
  typeof value === "number" ? `${formatNumber(value)}${unit ? ` ${unit}` : ""}` : value;

const opSymbol = { ">=": "≥", "<=": "≤", "=": "=" } as const;

const COLUMNS = ["metric", "value", "target", "ceiling", "ratio", "ok"] as const;

/** Renders rows as a pipe table: metric | value | target | ceiling | ratio | ok. */
export function renderTable(rows: JudgedRow[]): string {
  const cells = rows.map((r) => [
    r.metric,
    withUnit(r.value, r.unit),
    r.target ? `${opSymbol[r.target.op]} ${withUnit(r.target.value, r.unit)}` : "-",
    r.ceiling !== undefined ? withUnit(r.ceiling, r.unit) : "-",
    r.ratio !== null ? r.ratio.toFixed(2) : "-",
    r.pass === null ? "-" : r.pass ? "ok" : "FAIL",
  ]);
  // Width by code points, so "≥" counts as one column.
  const len = (s: string) => [...s].length;
  const widths = COLUMNS.map((h, i) => Math.max(len(h), ...cells.map((c) => len(c[i]!))));
  const line = (c: readonly string[]) =>
    c
      .map((s, i) => {
        const pad = " ".repeat(widths[i]! - len(s));
        // Text columns left-aligned, figures right-aligned.
        return i === 0 || i === 5 ? s + pad : pad + s;
      })
      .join(" | ");
  const rule = widths.map((w) => "-".repeat(w)).join("-|-");
  return [line(COLUMNS), rule, ...cells.map(line)].join("\n");
}

/** Failures first and loudly, then other notes: errors must not hide below a long table. */
export function renderNotes(rows: JudgedRow[]): string {
  const out: string[] = [];
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length > 0) {
    out.push(`!! ${failed.length} check(s) FAILED: ${failed.map((r) => r.metric).join(", ")}`);
  }
  for (const r of rows) {
    if (r.note) out.push(`${r.pass === false ? "!!" : "  "} ${r.metric}: ${r.note}`);
  }
  return out.join("\n");
}
