/**
 * Colours for holders on the claims map. Every colour has at least 3:1 contrast against the
 * white page (WCAG 1.4.11 for graphics), and the map never relies on colour alone: the
 * holder's name is always written next to it.
 */
export const HOLDER_COLORS = [
  "#1f5fa8", // blue
  "#b3441e", // rust
  "#2e7d32", // green
  "#7b3fa0", // purple
  "#a0610b", // ochre
  "#0f7580", // teal
  "#b0246a", // magenta
  "#4e5d1a", // olive
  "#5b4bc4", // indigo
  "#8a3b3b", // brick
  "#2f6b57", // pine
] as const;
export const OTHER_COLOR = "#6b6b6b";

/** Colours for the busiest holders first; the rest share grey ("others" in the legend). */
export function assignColors(holdersByWeight: string[]): Map<string, string> {
  const colors = new Map<string, string>();
  holdersByWeight.forEach((holder, i) => colors.set(holder, HOLDER_COLORS[i] ?? OTHER_COLOR));
  return colors;
}
