import { defineErrors } from "../../http/problem.js";

export const hookErrors = defineErrors({
  repoRequired: [400, "hooks.repo_required"],
  worktreeInvalid: [400, "hooks.worktree_invalid"],
});
