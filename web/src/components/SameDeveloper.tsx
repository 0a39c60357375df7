/**
 * The mark on a conflict between two agents of one developer (the API's `sameDeveloper`): said
 * in words, not by colour alone, so it reads the same to a screen reader. Such a conflict is
 * the developer's own to sort out, not a clash between people or teams.
 */
export function SameDeveloperMark() {
  return (
    <span class="badge badge-same" data-same-developer="" title="Both sides are agents of the same developer">
      same developer
    </span>
  );
}

/** The address value of the same-developer filter Conflicts and the claims map share (`same=`). */
export type SameFilter = "" | "hide" | "only";

export const SAME_FILTERS: Record<SameFilter, string> = {
  "": "shown, marked",
  hide: "left out",
  only: "only these",
};

export const sameFilterOf = (params: URLSearchParams): SameFilter => {
  const value = params.get("same");
  return value === "hide" || value === "only" ? value : "";
};

/** Whether a conflict passes the filter. */
export const passesSame = (filter: SameFilter, c: { sameDeveloper: boolean }) =>
  filter === "" || (filter === "hide" ? !c.sameDeveloper : c.sameDeveloper);
