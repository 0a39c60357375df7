import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { isDatabaseUnavailable } from "../infra/db.js";
import { AppError, toProblem, type FieldError } from "./problem.js";

/** Seconds a client is asked to wait before retrying a request the database could not serve. */
const DB_RETRY_AFTER_SECONDS = 1;

function send(reply: FastifyReply, request: FastifyRequest, error: AppError) {
  if (error.status === 503) reply.header("retry-after", String(DB_RETRY_AFTER_SECONDS));
  return reply
    .code(error.status)
    .type("application/problem+json")
    .send(toProblem(error, request.url.split("?")[0], request.id));
}

type ValidationIssue = { keyword?: string; instancePath?: string; message?: string; params?: { keys?: string[] } };

/** Zod issues as `{ field, reason }`, the field a dotted path prefixed by where it was (query, params). */
function zodFieldErrors(error: FastifyError): FieldError[] {
  const where =
    error.validationContext === "querystring" ? "query" : error.validationContext === "body" ? "" : (error.validationContext ?? "");
  const at = (...parts: string[]) => [where, ...parts].filter(Boolean).join(".") || "body";
  return (error.validation as unknown as ValidationIssue[]).flatMap((issue) => {
    const path = (issue.instancePath ?? "").split("/").filter(Boolean);
    if (issue.keyword === "unrecognized_keys" && issue.params?.keys?.length) {
      return issue.params.keys.map((key) => ({ field: at(...path, key), reason: "is not a known field" }));
    }
    const message = issue.message ?? "is invalid";
    return [{ field: at(...path), reason: /received undefined$/.test(message) ? "is required" : message }];
  });
}

/**
 * Turns everything thrown anywhere into a problem+json reply. Unknown errors become a
 * bare 500 whose details go to the log only, never to the client.
 */
export function installErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return send(reply, request, error);

    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = zodFieldErrors(error);
      const summary = errors.map((e) => `${e.field}: ${e.reason}`).join("; ");
      return send(reply, request, new AppError(400, "request.invalid", `The request is invalid: ${summary}`, { errors }));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, "response did not match its schema");
      return send(reply, request, new AppError(500, "internal", "The server failed to produce a valid response."));
    }

    switch (error.code) {
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return send(
          reply,
          request,
          new AppError(400, "request.malformed_json", `The body is not valid JSON: ${error.message}`, {
            errors: [{ field: "body", reason: "malformed JSON" }],
          }),
        );
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return send(reply, request, new AppError(413, "request.too_large", "The request body is larger than the server accepts."));
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return send(reply, request, new AppError(415, "request.unsupported_media_type", "Send the body as application/json."));
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        return send(
          reply,
          request,
          new AppError(400, "request.invalid_content_length", "The Content-Length header does not match the body."),
        );
    }
    if (error.statusCode === 429) {
      return send(reply, request, new AppError(429, "request.rate_limited", error.message));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, request, new AppError(error.statusCode, "request.invalid", error.message));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, "database unavailable");
      return send(
        reply,
        request,
        new AppError(503, "db.unavailable", "The database cannot be reached or did not answer in time; retry shortly."),
      );
    }
    request.log.error({ err: error }, "unhandled error");
    return send(reply, request, new AppError(500, "internal", "The server failed to handle this request."));
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, request, new AppError(404, "route.not_found", `No route ${request.method} ${request.url.split("?")[0]}.`)),
  );
}
