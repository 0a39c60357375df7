import { defineErrors } from "../../http/problem.js";

export const alertErrors = defineErrors({
  notFound: [404, "alerts.not_found"],
});
