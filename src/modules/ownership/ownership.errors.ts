import { defineErrors } from "../../http/problem.js";

export const ownershipErrors = defineErrors({
  codeownersNotFound: [404, "ownership.codeowners_not_found"],
  codeownersTooLarge: [422, "ownership.codeowners_too_large"],
  moduleNotFound: [404, "ownership.module_not_found"],
});
