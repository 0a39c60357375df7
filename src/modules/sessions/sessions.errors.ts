import { defineErrors } from "../../http/problem.js";

export const sessionErrors = defineErrors({
  notFound: [404, "sessions.not_found"],
  notActive: [409, "sessions.not_active"],
  ttlOutOfBounds: [422, "sessions.ttl_out_of_bounds"],
});
