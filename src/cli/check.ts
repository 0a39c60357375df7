/** The claim check shared by `brigade check`, the git hooks and the agent's pre-edit hook. */
import { ok, type BrigadeClient, type CheckResult } from "../sdk/client.js";
import { describeCovering } from "./output.js";

type Violation = CheckResult["results"][number]["violations"][number];
/** A claim covering a path; a violation carries the thread to talk it over in (older servers: none). */
type Covering = Omit<Violation, "thread"> & { thread?: Violation["thread"] };
export interface Finding {
  path: string;
  claim: Covering;
}

export interface CheckOutcome {
  repo: string;
  checked: number;
  /** Inside another session's exclusive claim: blocks. */
  violations: Finding[];
  /** Inside a shared claim, or (with no session) an exclusive claim of your own sessions: warns. */
  notices: Finding[];
}

const MAX_PATHS_PER_REQUEST = 10_000;

/**
 * Asks the server which of `paths` others' claims cover. With no session, a claim held by one
 * of the caller's own sessions (`userId`) is a notice, not a violation: a developer committing
 * by hand is not blocked by their own agents.
 */
export async function checkPaths(
  client: BrigadeClient,
  input: { repo: string; paths: string[]; sessionId?: string | undefined; userId?: string | undefined },
): Promise<CheckOutcome> {
  const outcome: CheckOutcome = { repo: input.repo, checked: 0, violations: [], notices: [] };
  for (let i = 0; i < input.paths.length; i += MAX_PATHS_PER_REQUEST) {
    const paths = input.paths.slice(i, i + MAX_PATHS_PER_REQUEST);
    const result = await ok(
      client.api.POST("/v1/repos/{repo}/check", {
        params: { path: { repo: input.repo } },
        // A guard: a new file (not in the uploaded tree, so a latent overlap) inside another
        // session's exclusive claim is refused like an existing one.
        body: { paths, onLatent: "block", ...(input.sessionId ? { sessionId: input.sessionId } : {}) },
      }),
    );
    outcome.repo = result.repo;
    outcome.checked += result.checked;
    for (const r of result.results) {
      for (const claim of r.violations) {
        const own = !input.sessionId && input.userId !== undefined && claim.holder.userId === input.userId;
        (own ? outcome.notices : outcome.violations).push({ path: r.path, claim });
      }
      for (const claim of r.notices) outcome.notices.push({ path: r.path, claim });
    }
  }
  return outcome;
}

export function describeOutcome(o: CheckOutcome, what = "path"): string[] {
  const lines: string[] = [];
  for (const v of o.violations) lines.push(`✗ ${describeCovering(v.path, v.claim)}`);
  for (const n of o.notices) lines.push(`! ${describeCovering(n.path, n.claim)}`);
  const summary =
    o.violations.length > 0
      ? `${o.violations.length} ${what}${o.violations.length === 1 ? " is" : "s are"} inside other sessions' exclusive claims (checked ${o.checked} in ${o.repo}); ask the holder to hand it over: brigade handoff ${o.violations[0]!.claim.claimId} --reason "…"`
      : `${o.checked} ${what}${o.checked === 1 ? "" : "s"} clear in ${o.repo}${o.notices.length ? ` (${o.notices.length} notice${o.notices.length === 1 ? "" : "s"})` : ""}`;
  lines.push(summary);
  return lines;
}
