/**
 * A side-by-side line diff of two documents, for a contract proposal against the version it
 * starts from. JSON is pretty-printed first (documents are often sent on one line).
 */
export interface DiffSide {
  /** 1-based line number. */
  no: number;
  text: string;
}

export interface DiffRow {
  kind: "same" | "removed" | "added" | "changed";
  left: DiffSide | null;
  right: DiffSide | null;
}

/** Lines compared exactly at most this many pairs; beyond, the differing middle is one block. */
const MAX_CELLS = 4_000_000;

/** The document as lines, JSON pretty-printed (2 spaces) so that each member is a line. */
export function documentLines(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.stringify(JSON.parse(trimmed), null, 2).split("\n");
    } catch {
      // Not JSON after all: compare it as written.
    }
  }
  return text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
}

type Op = { kind: "same" | "removed" | "added"; a: number; b: number };

/** Longest common subsequence of the middle (after the common head and tail are set aside). */
function middleOps(a: string[], b: string[], a0: number, a1: number, b0: number, b1: number): Op[] {
  const n = a1 - a0;
  const m = b1 - b0;
  const ops: Op[] = [];
  if (n * m > MAX_CELLS) {
    for (let i = a0; i < a1; i++) ops.push({ kind: "removed", a: i, b: -1 });
    for (let j = b0; j < b1; j++) ops.push({ kind: "added", a: -1, b: j });
    return ops;
  }
  // lcs[i][j]: the LCS length of a[a0+i..a1) and b[b0+j..b1), one row of m+1 per i.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        a[a0 + i] === b[b0 + j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[a0 + i] === b[b0 + j]) {
      ops.push({ kind: "same", a: a0 + i++, b: b0 + j++ });
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
      ops.push({ kind: "removed", a: a0 + i++, b: -1 });
    } else {
      ops.push({ kind: "added", a: -1, b: b0 + j++ });
    }
  }
  while (i < n) ops.push({ kind: "removed", a: a0 + i++, b: -1 });
  while (j < m) ops.push({ kind: "added", a: -1, b: b0 + j++ });
  return ops;
}

/** Rows side by side: unchanged lines face each other, a removed run faces the added run after it. */
export function sideBySide(before: string[], after: string[]): DiffRow[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail])
    tail++;
  const ops: Op[] = [];
  for (let k = 0; k < head; k++) ops.push({ kind: "same", a: k, b: k });
  ops.push(...middleOps(before, after, head, before.length - tail, head, after.length - tail));
  for (let k = tail; k > 0; k--) ops.push({ kind: "same", a: before.length - k, b: after.length - k });

  const rows: DiffRow[] = [];
  const side = (lines: string[], index: number): DiffSide => ({ no: index + 1, text: lines[index]! });
  let k = 0;
  while (k < ops.length) {
    const op = ops[k]!;
    if (op.kind === "same") {
      rows.push({ kind: "same", left: side(before, op.a), right: side(after, op.b) });
      k++;
      continue;
    }
    const removed: number[] = [];
    const added: number[] = [];
    while (k < ops.length && ops[k]!.kind !== "same") {
      const o = ops[k++]!;
      if (o.kind === "removed") removed.push(o.a);
      else added.push(o.b);
    }
    for (let r = 0; r < Math.max(removed.length, added.length); r++) {
      const left = removed[r] !== undefined ? side(before, removed[r]!) : null;
      const right = added[r] !== undefined ? side(after, added[r]!) : null;
      rows.push({ kind: left && right ? "changed" : left ? "removed" : "added", left, right });
    }
  }
  return rows;
}

export type DiffBlock = { kind: "rows"; rows: DiffRow[] } | { kind: "skip"; count: number; rows: DiffRow[] };

/** Unchanged stretches longer than twice the context fold into one "n unchanged lines" block. */
export function foldUnchanged(rows: DiffRow[], context = 3): DiffBlock[] {
  const blocks: DiffBlock[] = [];
  let k = 0;
  const push = (rs: DiffRow[]) => {
    if (rs.length === 0) return;
    const last = blocks[blocks.length - 1];
    if (last?.kind === "rows") last.rows.push(...rs);
    else blocks.push({ kind: "rows", rows: [...rs] });
  };
  while (k < rows.length) {
    if (rows[k]!.kind !== "same") {
      push([rows[k++]!]);
      continue;
    }
    let end = k;
    while (end < rows.length && rows[end]!.kind === "same") end++;
    const run = rows.slice(k, end);
    const keepBefore = k === 0 ? 0 : context;
    const keepAfter = end === rows.length ? 0 : context;
    if (run.length > keepBefore + keepAfter + 1) {
      push(run.slice(0, keepBefore));
      const hidden = run.slice(keepBefore, run.length - keepAfter);
      blocks.push({ kind: "skip", count: hidden.length, rows: hidden });
      push(run.slice(run.length - keepAfter));
    } else push(run);
    k = end;
  }
  return blocks;
}
