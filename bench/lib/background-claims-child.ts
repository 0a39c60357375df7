/** The child of background-claims.ts: runs the load its spec describes, prints the result as JSON. */
import { SPEC_ENV, type BackgroundClaimsSpec } from "./background-claims.js";
import { runPacedLoad } from "./paced-load.js";
import { SyntheticRepo } from "./synthetic.js";

const spec = JSON.parse(process.env[SPEC_ENV] ?? "null") as BackgroundClaimsSpec | null;
if (!spec || spec.sessions.length === 0) throw new Error(`${SPEC_ENV} must hold the load's spec with at least one session`);
const repo = new SyntheticRepo(spec.seed);
const result = await runPacedLoad({
  url: spec.url,
  rate: spec.rate,
  seconds: spec.seconds,
  connections: spec.connections,
  next(n) {
    const session = spec.sessions[n % spec.sessions.length]!;
    return {
      method: "POST",
      path: "/v1/claims",
      headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ sessionId: session.id, patterns: [repo.claimPattern(n)], ttlSeconds: spec.ttlSeconds }),
    };
  },
});
process.stdout.write(JSON.stringify(result));
