import { defineErrors } from "../../http/problem.js";

export const treeErrors = defineErrors({
  notFound: [404, "trees.not_found"],
  /** A delta named a base the server does not have: send the whole list instead. */
  baseMismatch: [412, "trees.base_mismatch"],
  repoMismatch: [422, "trees.repo_mismatch"],
  tooLarge: [413, "trees.too_large"],
  unsupportedEncoding: [415, "trees.unsupported_encoding"],
});
