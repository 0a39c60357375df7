/**
 * Validation of repository paths (the things patterns are matched against).
 *
 * Paths are kept in one canonical spelling so that matching and overlap never have to wonder
 * whether `a/./b`, `a//b` or `a\b` mean the same file as `a/b`.
 */

/** Longest accepted path, in Unicode code points (the common PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

export type PathValidation = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

/** Thrown by `matches` and `PatternIndex.matching` when given an invalid path. */
export class PathError extends Error {
  override readonly name = "PathError";

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Invalid repository path ${JSON.stringify(path)}: ${reason}`);
  }
}

const CONTROL_CHARACTER = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;

export function validatePath(path: string): PathValidation {
  const reason = rejectPath(path);
  return reason === undefined ? { ok: true, path } : { ok: false, reason };
}

/** Throws `PathError` unless `path` is valid. */
export function assertValidPath(path: string): void {
  const reason = rejectPath(path);
  if (reason !== undefined) throw new PathError(typeof path === "string" ? path : String(path), reason);
}

function rejectPath(path: unknown): string | undefined {
  if (typeof path !== "string") return `a path must be a string, got ${typeof path}`;
  if (path.length === 0) return "the path is empty";
  if (path.length > MAX_PATH_LENGTH) {
    let length = 0;
    for (const _ of path) length++;
    if (length > MAX_PATH_LENGTH) return `the path is ${length} characters long; the limit is ${MAX_PATH_LENGTH}`;
  }
  if (LONE_SURROGATE.test(path)) return "the path is not well-formed Unicode (it contains a lone surrogate)";
  const control = CONTROL_CHARACTER.exec(path);
  if (control) {
    const code = control[0].codePointAt(0) ?? 0;
    const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    return code === 0 ? `the path contains a NUL character (${hex})` : `the path contains a control character (${hex})`;
  }
  if (path.includes("\\")) return 'the path contains a backslash; use "/" as the directory separator';
  if (path.startsWith("/")) return 'the path starts with "/"; paths are relative to the repository root';
  if (path.endsWith("/")) return 'the path ends with "/"; name a file or directory without a trailing slash';

  for (const segment of path.split("/")) {
    if (segment === "") return 'the path contains an empty segment ("//")';
    if (segment === "." || segment === "..") {
      return `the path contains a "${segment}" segment; paths must be normalized`;
    }
  }
  return undefined;
}
