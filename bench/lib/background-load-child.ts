/** The child of background-load.ts: runs the load its spec describes, prints the result as JSON. */
import { SPEC_ENV, type BackgroundLoadSpec } from "./background-load.js";
import { runPacedLoad, type PacedRequest } from "./paced-load.js";
import { SyntheticRepo } from "./synthetic.js";

const spec = JSON.parse(process.env[SPEC_ENV] ?? "null") as BackgroundLoadSpec | null;
if (!spec) throw new Error(`${SPEC_ENV} must hold the load's spec`);

function requests(target: BackgroundLoadSpec["target"]): (n: number) => PacedRequest {
  if (target.kind === "outbox-floor") {
    const run = `${process.pid}-${Date.now()}`;
    return (n) => ({
      method: "POST",
      path: "/conflict",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: `background-${run}-${n}` }),
    });
  }
  if (target.sessions.length === 0) throw new Error("a claims load needs at least one session");
  const repo = new SyntheticRepo(target.seed);
  return (n) => {
    const session = target.sessions[n % target.sessions.length]!;
    return {
      method: "POST",
      path: "/v1/claims",
      headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ sessionId: session.id, patterns: [repo.claimPattern(n)], ttlSeconds: target.ttlSeconds }),
    };
  };
}

const result = await runPacedLoad({
  url: spec.url,
  rate: spec.rate,
  seconds: spec.seconds,
  connections: spec.connections,
  next: requests(spec.target),
});
process.stdout.write(JSON.stringify(result));
