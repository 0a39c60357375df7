/**
 * Whether a claim conflict is real (existing files of the repository's uploaded tree are on both
 * sides) or latent (only paths that do not exist overlap), said in words: the conflicts page and
 * the claims map mark it alike. Nothing when the conflict is not classified (no tree uploaded).
 */
export function OverlapBadge({ overlap, realCount }: { overlap: "real" | "latent" | null; realCount: number | null }) {
  if (overlap === "latent")
    return (
      <span
        class="badge badge-latent"
        data-overlap="latent"
        title="No existing file is on both sides: only paths that do not exist overlap"
      >
        latent
      </span>
    );
  if (overlap === "real")
    return (
      <span
        class="badge badge-real"
        data-overlap="real"
        title={`Existing files on both sides${realCount !== null ? `: ${realCount}` : ""}`}
      >
        real{realCount ? ` · ${realCount}` : ""}
      </span>
    );
  return null;
}
