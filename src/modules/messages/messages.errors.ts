import { defineErrors } from "../../http/problem.js";

export const messageErrors = defineErrors({
  notFound: [404, "messages.not_found"],
  recipientNotFound: [422, "messages.recipient_not_found"],
  recipientDeleted: [422, "messages.recipient_deleted"],
  broadcastForbidden: [403, "messages.broadcast_forbidden"],
  notSender: [403, "messages.not_sender"],
});
