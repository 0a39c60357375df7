/**
 * Repository identity: every spelling of one remote maps to one key, host and path
 * lower-cased, with credentials, port, `.git` and trailing slashes removed:
 * `git@github.com:Acme/api.git`, `https://github.com/Acme/api` and
 * `ssh://git@github.com/Acme/api` are all `github.com/acme/api`.
 */
import { defineErrors } from "../../http/problem.js";

export const repoErrors = defineErrors({ invalid: [422, "repos.invalid"] });

export type RepoKeyResult = { ok: true; key: string; remote: string } | { ok: false; reason: string };

const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/;
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const SEGMENT = /^[a-z0-9._~+-]+$/;

export function normaliseRemote(input: string): RepoKeyResult {
  const raw = input.trim();
  if (!raw) return { ok: false, reason: "is empty" };
  if (raw.length > 1024) return { ok: false, reason: "is longer than 1,024 characters" };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(raw)) return { ok: false, reason: "contains whitespace or control characters" };

  // Checked before URL parsing, which would silently resolve them away.
  if (/(^|[/:])\.\.?(\/|$)/.test(raw)) return { ok: false, reason: "has an empty, '.' or '..' path segment" };

  let host: string;
  let path: string;
  let remote = raw;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: "is not a valid URL" };
    }
    if (!["https:", "http:", "ssh:", "git:", "git+ssh:", "ssh+git:"].includes(url.protocol)) {
      return { ok: false, reason: `uses the unsupported scheme ${url.protocol.replace(":", "")}; use https, ssh or git` };
    }
    host = url.hostname;
    path = decodeURIComponent(url.pathname);
    url.username = "";
    url.password = "";
    remote = url.toString();
  } else if (SCP_LIKE.test(raw) && !raw.startsWith("/")) {
    const m = SCP_LIKE.exec(raw)!;
    host = m[1]!;
    path = m[2]!;
  } else if (/^[^/]+\.[^/]+\/.+/.test(raw)) {
    // Already a key: host/owner/name.
    const slash = raw.indexOf("/");
    host = raw.slice(0, slash);
    path = raw.slice(slash + 1);
  } else {
    return { ok: false, reason: "is not a git remote (expected e.g. git@github.com:acme/api.git or https://github.com/acme/api)" };
  }

  host = host.toLowerCase();
  if (!HOST.test(host)) return { ok: false, reason: `has an invalid host "${host}"` };
  const segments = path
    .toLowerCase()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .split("/")
    .filter((s, i) => !(i === 0 && s === ""));
  if (segments.length === 0 || segments[0] === "") return { ok: false, reason: "has no repository path" };
  for (const s of segments) {
    if (s === "" || s === "." || s === "..") return { ok: false, reason: "has an empty, '.' or '..' path segment" };
    if (!SEGMENT.test(s)) return { ok: false, reason: `has an invalid path segment "${s}"` };
  }
  return { ok: true, key: `${host}/${segments.join("/")}`, remote };
}

/** The key of a remote, or a 422 `repos.invalid` naming the field and the reason. */
export function repoKeyOrThrow(input: string, field = "repo"): { key: string; remote: string } {
  const result = normaliseRemote(input);
  if (!result.ok) throw repoErrors.invalid(`${field} ${result.reason}.`, { errors: [{ field, reason: result.reason }] });
  return result;
}
