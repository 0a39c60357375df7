import { defineErrors } from "../../http/problem.js";

export const alertErrors = defineErrors({
  notFound: [404, "alerts.not_found"],
  conflictNotFound: [404, "conflicts.not_found"],
  notParty: [403, "conflicts.not_party"],
});
