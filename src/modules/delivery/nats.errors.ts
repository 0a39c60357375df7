import { defineErrors } from "../../http/problem.js";

export const natsErrors = defineErrors({
  credentialsDisabled: [404, "nats.credentials_disabled"],
  ttlOutOfBounds: [422, "nats.ttl_out_of_bounds"],
});
