import { memo } from "preact/compat";
import { useCallback, useMemo, useRef, useState } from "preact/hooks";
import type { TreeNode } from "../../lib/claims-tree.js";
import { OTHER_COLOR } from "../../lib/colors.js";
import { plural } from "../../lib/format.js";
import type { OwnersLookup } from "../../lib/owners.js";
import { userName, type Directory } from "../../state/app.js";
import { ownersOf } from "./codeowners.js";

/** Children listed under one folder before "…and N more". */
const MAX_CHILDREN_SHOWN = 300;

interface Row {
  node: TreeNode;
  level: number;
  setSize: number;
  posInSet: number;
  more?: number;
}

function visibleRows(root: TreeNode, expanded: Set<string>): Row[] {
  const rows: Row[] = [];
  const walk = (node: TreeNode, level: number) => {
    const shown = node.children.slice(0, MAX_CHILDREN_SHOWN);
    shown.forEach((child, i) => {
      rows.push({ node: child, level, setSize: node.children.length, posInSet: i + 1 });
      if (expanded.has(child.path)) walk(child, level + 1);
    });
    if (node.children.length > shown.length) rows.push({ node, level, setSize: 0, posInSet: 0, more: node.children.length - shown.length });
  };
  walk(root, 1);
  return rows;
}

function HolderSwatches({
  holders,
  colors,
  directory,
}: {
  holders: Map<string, number>;
  colors: Map<string, string>;
  directory: Directory;
}) {
  const list = [...holders.entries()].sort((a, b) => b[1] - a[1]);
  const shown = list.slice(0, 4);
  const names = list.map(([id]) => userName(directory, id)).join(", ");
  return (
    <span class="swatches" title={names}>
      {shown.map(([id]) => (
        <span key={id} class="swatch" style={{ background: colors.get(id) ?? OTHER_COLOR }} aria-hidden="true" />
      ))}
      <span class="swatch-names">
        {shown.map(([id]) => userName(directory, id)).join(", ")}
        {list.length > shown.length ? ` +${list.length - shown.length}` : ""}
      </span>
    </span>
  );
}

interface TreeRowProps {
  row: Row;
  expanded: boolean;
  selected: boolean;
  focused: boolean;
  owners: string;
  colors: Map<string, string>;
  directory: Directory;
  onActivate(path: string, toggle: boolean): void;
  onFocus(path: string): void;
}

/**
 * Whether a row would draw the same. The live map is rebuilt (new nodes, new colour map) each
 * time claims change, so identity says nothing: a row compares what it shows — its folder's
 * figures, flags, holders and their colours — and only the rows that changed are drawn again.
 */
function sameTreeRow(a: TreeRowProps, b: TreeRowProps): boolean {
  if (
    a.expanded !== b.expanded ||
    a.selected !== b.selected ||
    a.focused !== b.focused ||
    a.owners !== b.owners ||
    a.directory !== b.directory ||
    a.onActivate !== b.onActivate ||
    a.onFocus !== b.onFocus
  )
    return false;
  const [x, y] = [a.row, b.row];
  if (x.level !== y.level || x.setSize !== y.setSize || x.posInSet !== y.posInSet || x.more !== y.more) return false;
  const [n, m] = [x.node, y.node];
  if (n !== m) {
    if (
      n.path !== m.path ||
      n.total !== m.total ||
      n.children.length !== m.children.length ||
      n.conflict !== m.conflict ||
      n.conflictLatentOnly !== m.conflictLatentOnly ||
      n.overlap !== m.overlap ||
      n.holders.size !== m.holders.size
    )
      return false;
    for (const [id, count] of n.holders) if (m.holders.get(id) !== count) return false;
  }
  if (a.colors !== b.colors) for (const id of m.holders.keys()) if (a.colors.get(id) !== b.colors.get(id)) return false;
  return true;
}

const TreeRow = memo(function TreeRow(props: TreeRowProps) {
  const { row, expanded, selected, focused, owners, colors, directory } = props;
  const node = row.node;
  if (row.more !== undefined) {
    return (
      <li role="none" class="tree-more" style={{ paddingLeft: `${row.level * 1.1}rem` }}>
        …and {plural(row.more, "more folder")} (use “Go to path” to open one)
      </li>
    );
  }
  const hasChildren = node.children.length > 0;
  return (
    <li
      role="treeitem"
      aria-level={row.level}
      aria-setsize={row.setSize}
      aria-posinset={row.posInSet}
      aria-expanded={hasChildren ? expanded : undefined}
      aria-selected={selected}
      tabIndex={focused ? 0 : -1}
      data-path={node.path}
      class={`tree-row ${selected ? "is-selected" : ""} ${node.conflict && !node.conflictLatentOnly ? "has-conflict" : ""} ${node.overlap ? "has-overlap" : ""}`}
      onClick={() => props.onActivate(node.path, true)}
      onFocus={() => props.onFocus(node.path)}
    >
      <span class="tree-indent" style={{ width: `${(row.level - 1) * 1.1}rem` }} aria-hidden="true" />
      <span class="tree-toggle" aria-hidden="true">
        {hasChildren ? (expanded ? "▾" : "▸") : "·"}
      </span>
      <span class="tree-name mono">{node.name}</span>
      <HolderSwatches holders={node.holders} colors={colors} directory={directory} />
      <span class="tree-count">{plural(node.total, "claim")}</span>
      {node.conflict ? (
        node.conflictLatentOnly ? (
          <span class="flag flag-latent" title="Only latent conflicts: no existing file is claimed by both sides">
            latent conflict
          </span>
        ) : (
          <span class="flag flag-danger">conflict</span>
        )
      ) : null}
      {node.overlap ? <span class="flag flag-warning">overlap</span> : null}
      {owners ? (
        <span class="tree-owners" title="CODEOWNERS">
          <span class="visually-hidden">CODEOWNERS: </span>
          {owners}
        </span>
      ) : null}
    </li>
  );
}, sameTreeRow);

export function ClaimTree(props: {
  root: TreeNode;
  expanded: Set<string>;
  selected: string;
  colors: Map<string, string>;
  directory: Directory;
  codeowners: OwnersLookup | null;
  onToggle(path: string): void;
  onSelect(path: string): void;
}) {
  const { root, expanded, selected } = props;
  const rows = useMemo(() => visibleRows(root, expanded), [root, expanded]);
  const [focusPath, setFocusPath] = useState<string>(selected || rows[0]?.node.path || "");
  const ownersCache = useMemo(() => new Map<string, string>(), [props.codeowners]);
  const list = useRef<HTMLUListElement>(null);
  const focusable = rows.some((r) => r.more === undefined && r.node.path === focusPath) ? focusPath : (rows[0]?.node.path ?? "");

  const focusRow = (path: string) => {
    setFocusPath(path);
    const find = () => list.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(path)}"]`);
    // The row is usually on screen already; one just revealed appears after the next render.
    const row = find();
    if (row) row.focus();
    else requestAnimationFrame(() => find()?.focus());
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const items = rows.filter((r) => r.more === undefined);
    // The row the key was pressed on (state may lag a focus change by a render).
    const current = (e.target as HTMLElement).closest<HTMLElement>("[data-path]")?.dataset.path ?? focusable;
    const index = items.findIndex((r) => r.node.path === current);
    const row = items[index];
    if (!row) return;
    const node = row.node;
    const parentPath = node.path.includes("/") ? node.path.slice(0, node.path.lastIndexOf("/")) : "";
    switch (e.key) {
      case "ArrowDown":
        if (items[index + 1]) focusRow(items[index + 1]!.node.path);
        break;
      case "ArrowUp":
        if (items[index - 1]) focusRow(items[index - 1]!.node.path);
        break;
      case "Home":
        if (items[0]) focusRow(items[0].node.path);
        break;
      case "End":
        if (items.length) focusRow(items[items.length - 1]!.node.path);
        break;
      case "ArrowRight":
        if (node.children.length === 0) break;
        if (!expanded.has(node.path)) props.onToggle(node.path);
        else if (node.children[0]) focusRow(node.children[0].path);
        break;
      case "ArrowLeft":
        if (expanded.has(node.path)) props.onToggle(node.path);
        else if (parentPath) focusRow(parentPath);
        break;
      case "Enter":
      case " ":
        props.onSelect(node.path);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const onActivate = useCallback(
    (path: string, toggle: boolean) => {
      setFocusPath(path);
      props.onSelect(path);
      if (toggle) props.onToggle(path);
    },
    [props.onSelect, props.onToggle],
  );

  return (
    <ul ref={list} role="tree" aria-label="Claimed areas" class="tree" onKeyDown={onKeyDown}>
      {rows.map((row) => (
        <TreeRow
          key={row.more !== undefined ? `${row.node.path}/…more` : row.node.path}
          row={row}
          expanded={expanded.has(row.node.path)}
          selected={row.node.path === selected}
          focused={row.node.path === focusable && row.more === undefined}
          owners={row.more === undefined ? ownersOf(props.codeowners, row.node, ownersCache) : ""}
          colors={props.colors}
          directory={props.directory}
          onActivate={onActivate}
          onFocus={setFocusPath}
        />
      ))}
    </ul>
  );
}
