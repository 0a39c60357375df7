import { defineErrors } from "../../http/problem.js";

export const conflictErrors = defineErrors({
  notFound: [404, "conflicts.not_found"],
  notParty: [403, "conflicts.not_party"],
});
