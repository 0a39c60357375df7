import { z } from "zod";

/** One invalid field: a JSON-pointer-like dotted path and the reason. */
export interface FieldError {
  field: string;
  reason: string;
}

/**
 * Every error Brigade returns is one of these: an RFC 9457 problem with a stable dotted
 * `code` (e.g. `sessions.not_found`) that clients may branch on.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[] } & Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "AppError";
  }
}

/** Declares a module's errors once: `const errors = defineErrors({ notFound: [404, "sessions.not_found"] })`. */
export function defineErrors<T extends Record<string, readonly [number, string]>>(table: T) {
  return Object.fromEntries(
    Object.entries(table).map(([key, [status, code]]) => [
      key,
      (detail: string, extra?: AppError["extra"]) => new AppError(status, code, detail, extra),
    ]),
  ) as { [K in keyof T]: (detail: string, extra?: AppError["extra"]) => AppError };
}

export const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export const problemSchema = z
  .object({
    type: z.string().describe("A URI naming the problem type: about:blank or a Brigade problem URN."),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe("Stable dotted error code, e.g. sessions.not_found."),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  })
  .passthrough()
  .meta({ id: "Problem" });

export type Problem = z.infer<typeof problemSchema>;

export function toProblem(error: AppError, instance?: string, requestId?: string): Problem {
  return {
    type: `urn:brigade:problem:${error.code}`,
    title: titles[error.status] ?? "Error",
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...(instance ? { instance } : {}),
    ...(requestId ? { requestId } : {}),
    ...error.extra,
  };
}

/** Response-schema entries for the errors a route can return, for openapi.yaml. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(s)]));
}

/** One problem response, optionally with a schema that extends the problem's fields. */
export function problemResponse(status: number, schema: z.ZodType = problemSchema) {
  return { description: titles[status] ?? "Error", content: { "application/problem+json": { schema } } };
}
