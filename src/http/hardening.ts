import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, toProblem } from "./problem.js";

/** Deepest JSON nesting (objects and arrays) a request may carry; none of Brigade's bodies need more than a few levels. */
export const MAX_JSON_DEPTH = 64;

/** A NUL byte, or a UTF-16 surrogate without its pair: PostgreSQL text cannot store either. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const badString = (s: string) => s.includes("\0") || LONE_SURROGATE.test(s);

const fieldPath = (where: string, path: (string | number)[]) => [where, ...path].filter((p) => p !== "").join(".") || "body";

interface Frame {
  value: unknown;
  depth: number;
  key: string | number | null;
  parent: Frame | null;
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) path.unshift(f.key);
  return path;
}

/**
 * Walks a parsed value without recursion (an explicit stack), so a hostile depth costs a loop
 * and a 400, never a stack overflow: refuses nesting past MAX_JSON_DEPTH and strings (values
 * and keys) PostgreSQL would reject. Paths are built only for the answer.
 */
export function checkRequestValue(value: unknown, where: "" | "query" | "params"): AppError | undefined {
  const stack: Frame[] = [{ value, depth: 0, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v === "string") {
      if (badString(v)) return invalidString(fieldPath(where, pathOf(frame)));
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (frame.depth >= MAX_JSON_DEPTH) {
      const field = fieldPath(where, pathOf(frame).slice(0, 3));
      return new AppError(400, "request.too_deep", `The request nests deeper than ${MAX_JSON_DEPTH} levels.`, {
        errors: [{ field, reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }],
      });
    }
    const depth = frame.depth + 1;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (typeof item === "string" || (typeof item === "object" && item !== null))
          stack.push({ value: item, depth, key: i, parent: frame });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      if (badString(key)) {
        return invalidString(fieldPath(where, [...pathOf(frame), key.replace(/[\0\uD800-\uDFFF]/g, "\uFFFD")]));
      }
      stack.push({ value: (v as Record<string, unknown>)[key], depth, key, parent: frame });
    }
  }
  return undefined;
}

function invalidString(field: string) {
  const reason = "contains a NUL byte or an unpaired surrogate";
  return new AppError(400, "request.invalid_string", `The request is invalid: ${field}: ${reason}`, { errors: [{ field, reason }] });
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError) {
  return reply
    .code(error.status)
    .type("application/problem+json")
    .send(toProblem(error, (request.url ?? "").split("?")[0], request.id));
}

/**
 * Router errors (a path that is not valid percent-encoding, a parameter over the router's
 * length limit) answered as problem+json like every other error. Passed to Fastify as
 * `frameworkErrors`; they happen before routing, so no hook of ours has run.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      return sendProblem(reply, request, new AppError(400, "request.bad_url", "The request path is not valid percent-encoding."));
    case "FST_ERR_MAX_PARAM_LENGTH":
      return sendProblem(
        reply,
        request,
        new AppError(414, "request.param_too_long", "A path parameter is longer than the server accepts."),
      );
    default:
      request.log.error({ err: error }, "router error");
      return sendProblem(reply, request, new AppError(500, "internal", "The server failed to handle this request."));
  }
}

/**
 * Plumbing every route gets: string and depth checks on body, query and parameters before the
 * route's schema runs, and `Cache-Control: no-store` on every answer that did not choose its
 * own caching (tokens, credentials and organisation data must not sit in a shared cache).
 */
export function installRequestHardening(app: FastifyInstance) {
  app.addHook("preValidation", async (request) => {
    const failure =
      checkRequestValue(request.params, "params") ?? checkRequestValue(request.query, "query") ?? checkRequestValue(request.body, "");
    if (failure) throw failure;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
  });
}
