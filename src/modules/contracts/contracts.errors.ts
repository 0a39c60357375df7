import { defineErrors } from "../../http/problem.js";

export const contractErrors = defineErrors({
  notFound: [404, "contracts.not_found"],
  versionNotFound: [404, "contracts.version_not_found"],
  consumerNotFound: [404, "contracts.consumer_not_found"],
  proposalNotFound: [404, "contracts.proposal_not_found"],
  nameTaken: [409, "contracts.name_taken"],
  archived: [409, "contracts.archived"],
  incompatible: [409, "contracts.incompatible"],
  labelConflict: [409, "contracts.label_conflict"],
  unchanged: [409, "contracts.unchanged"],
  proposalClosed: [409, "contracts.proposal_closed"],
  contentTooLarge: [413, "contracts.content_too_large"],
  invalidContent: [422, "contracts.invalid_content"],
  tooComplex: [422, "contracts.too_complex"],
  kindMismatch: [422, "contracts.kind_mismatch"],
  unsupportedVersion: [422, "contracts.unsupported_version"],
  externalRef: [422, "contracts.external_ref"],
  invalidSource: [422, "contracts.invalid_source"],
  reasonRequired: [422, "contracts.reason_required"],
  notProvider: [403, "contracts.not_provider"],
  notConsumer: [403, "contracts.not_consumer"],
});
