/**
 * The import graph of the repository's own TypeScript files, read with the compiler's
 * `preProcessFile` (every `import`, `import type`, `export … from`, `import x = require()` and
 * dynamic `import()`), plus the graph algorithms the architecture test needs. Files are named
 * by their path relative to the repository root with forward slashes (`src/app.ts`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** One resolved relative import: `from` names `to` at `line` (1-based) with `specifier`. */
export interface Import {
  from: string;
  to: string;
  specifier: string;
  line: number;
}

/** A relative specifier that names no file. */
export interface Unresolved {
  from: string;
  specifier: string;
  line: number;
}

export interface ImportGraph {
  /** Every file read, and every file an import resolved to; sorted. */
  files: string[];
  /** The imports of each file, one per imported file (its first mention), in source order. */
  imports: Map<string, Import[]>;
  unresolved: Unresolved[];
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

function walk(root: string, dir: string, out: string[]) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(root, rel, out);
    else if (/\.tsx?$/.test(entry.name)) out.push(rel);
  }
}

/**
 * Where a relative specifier of `from` points: a TypeScript file (`./x.js` → `x.ts`, `x.tsx` or
 * `x.d.ts`; `./x` → the same or `x/index.ts(x)`), `"asset"` for an existing non-script file
 * (`./styles.css`), or undefined when nothing is there.
 */
export function resolveSpecifier(root: string, from: string, specifier: string): string | "asset" | undefined {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const exists = (rel: string) => isFile(path.join(root, rel));
  let candidates: string[];
  const ext = /\.(?:[cm]?jsx?)$/.exec(target);
  if (ext) {
    const stem = target.slice(0, -ext[0].length);
    candidates = [`${stem}.ts`, `${stem}.tsx`, `${stem}.d.ts`, target];
  } else if (/\.(?:d\.)?tsx?$/.test(target)) {
    candidates = [target];
  } else if (/\.[a-z0-9]+$/i.test(path.posix.basename(target)) && exists(target)) {
    return "asset";
  } else {
    candidates = [`${target}.ts`, `${target}.tsx`, `${target}.d.ts`, `${target}/index.ts`, `${target}/index.tsx`];
  }
  return candidates.find(exists);
}

/** The 1-based line of a character position. */
function lineNumber(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < pos; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Reads every `.ts`/`.tsx` file under `dirs` (relative to `root`), except those in `skip`, and
 * resolves their relative imports. Package imports are not part of the graph.
 */
export function readImportGraph(root: string, dirs: string[], skip: string[] = []): ImportGraph {
  const sources: string[] = [];
  for (const dir of dirs) walk(root, dir, sources);
  const files = new Set<string>();
  const imports = new Map<string, Import[]>();
  const unresolved: Unresolved[] = [];
  for (const from of sources) {
    if (skip.includes(from)) continue;
    files.add(from);
    const text = readFileSync(path.join(root, from), "utf8");
    const lineOf = (pos: number) => lineNumber(text, pos);
    const out: Import[] = [];
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const specifier = ref.fileName;
      if (!specifier.startsWith("./") && !specifier.startsWith("../") && specifier !== "." && specifier !== "..") continue;
      const to = resolveSpecifier(root, from, specifier);
      if (to === "asset") continue;
      if (to === undefined) {
        unresolved.push({ from, specifier, line: lineOf(ref.pos) });
        continue;
      }
      files.add(to);
      if (!out.some((i) => i.to === to)) out.push({ from, to, specifier, line: lineOf(ref.pos) });
    }
    imports.set(from, out);
  }
  return { files: [...files].sort(), imports, unresolved };
}

/**
 * A hand-made graph for testing the checks: `{ "src/a.ts": ["src/b.ts"] }`. The n-th import of
 * a file is on its line n.
 */
export function graphOf(edges: Record<string, string[]>): ImportGraph {
  const files = new Set<string>();
  const imports = new Map<string, Import[]>();
  for (const [from, tos] of Object.entries(edges)) {
    files.add(from);
    imports.set(
      from,
      tos.map((to, i) => {
        files.add(to);
        return { from, to, specifier: to, line: i + 1 };
      }),
    );
  }
  return { files: [...files].sort(), imports, unresolved: [] };
}

/** Every import of the graph, file by file in sorted order. */
export function allImports(graph: ImportGraph): Import[] {
  return graph.files.flatMap((f) => graph.imports.get(f) ?? []);
}

const importsOf = (graph: ImportGraph, file: string) => graph.imports.get(file) ?? [];

/** A circle of imports: `path[i]` imports `path[i + 1]` at `lines[i]`, and the last file imports the first. */
export interface Cycle {
  path: string[];
  lines: number[];
  /** The whole strongly connected set the cycle was found in (sorted); often just `path`. */
  members: string[];
}

/**
 * The circles among the files for which `within` holds: one per strongly connected component
 * (Tarjan) of two or more files, or of one file importing itself. Each is given as a shortest
 * circle through the component's first file, in import order.
 */
export function findCycles(graph: ImportGraph, within: (file: string) => boolean = () => true): Cycle[] {
  const nodes = graph.files.filter(within);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const { to: w } of importsOf(graph, v)) {
      if (!within(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) connect(v);

  const cycles: Cycle[] = [];
  for (const members of components) {
    const start = members[0]!;
    const inside = new Set(members);
    if (members.length === 1 && !importsOf(graph, start).some((i) => i.to === start)) continue;
    // Breadth-first from the first file back to itself, staying inside the component.
    const parent = new Map<string, { file: string; line: number }>();
    const queue = [start];
    let closing: { file: string; line: number } | undefined;
    while (queue.length > 0 && !closing) {
      const v = queue.shift()!;
      for (const { to: w, line } of importsOf(graph, v)) {
        if (!inside.has(w)) continue;
        if (w === start) {
          closing = { file: v, line };
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, { file: v, line });
          queue.push(w);
        }
      }
    }
    const path: string[] = [];
    const lines: number[] = [];
    for (let step = closing; step; ) {
      path.unshift(step.file);
      lines.unshift(step.line);
      step = step.file === start ? undefined : parent.get(step.file);
    }
    cycles.push({ path, lines, members });
  }
  return cycles.sort((a, b) => (a.path[0]! < b.path[0]! ? -1 : 1));
}

/** `a.ts:3 → b.ts:7 → a.ts`: each file with the line that imports the next. */
export function formatCycle(cycle: Cycle): string {
  const steps = cycle.path.map((file, i) => `${file}:${cycle.lines[i]}`);
  const others = cycle.members.filter((m) => !cycle.path.includes(m));
  return `${[...steps, cycle.path[0]].join(" → ")}${others.length > 0 ? ` (the same knot also holds ${others.join(", ")})` : ""}`;
}

/** A chain of imports from one of the starting files to a reached one. */
export type Chain = Import[];

/**
 * Every file reachable from `sources` by imports, each with a shortest chain of imports
 * leading to it (breadth-first; sources themselves map to an empty chain). Files for which
 * `stopAt` holds are reached but not followed further.
 */
export function reach(graph: ImportGraph, sources: string[], stopAt: (file: string) => boolean = () => false): Map<string, Chain> {
  const chains = new Map<string, Chain>();
  const queue: string[] = [];
  for (const s of [...sources].sort()) {
    if (chains.has(s)) continue;
    chains.set(s, []);
    queue.push(s);
  }
  while (queue.length > 0) {
    const v = queue.shift()!;
    if (stopAt(v) && chains.get(v)!.length > 0) continue;
    for (const edge of importsOf(graph, v)) {
      if (chains.has(edge.to)) continue;
      chains.set(edge.to, [...chains.get(v)!, edge]);
      queue.push(edge.to);
    }
  }
  return chains;
}

/** `a.ts:3 → b.ts:7 → c.ts`: each file with the line that imports the next. */
export function formatChain(chain: Chain): string {
  return [...chain.map((i) => `${i.from}:${i.line}`), chain.at(-1)!.to].join(" → ");
}
