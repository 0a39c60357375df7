/** Printing: readable text by default, one JSON document with --json. */
import type { ClaimConflict, CheckResult } from "../sdk/client.js";

export interface Out {
  json: boolean;
  /** The result: JSON (stable, machine) or the readable text. */
  result(data: unknown, text: string | (() => string)): void;
  /** A line for people (stderr), e.g. progress and warnings. */
  note(line: string): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    result(data, text) {
      if (json) process.stdout.write(`${JSON.stringify(data)}\n`);
      else {
        const t = typeof text === "function" ? text() : text;
        if (t) process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
      }
    },
    note(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}

/** "14:05:09 (in 28 min)" in local time. */
export function until(iso: string, now = Date.now()): string {
  const t = new Date(iso);
  const minutes = Math.round((t.getTime() - now) / 60_000);
  const rel = minutes <= 0 ? "now" : minutes < 90 ? `in ${minutes} min` : `in ${Math.round(minutes / 60)} h`;
  return `${t.toTimeString().slice(0, 8)} (${rel})`;
}

export const shortId = (id: string) => id.slice(-8);

/** "Alice Martin's agent claude-1": a claim's holder, by name (ids stay references). */
export const holderText = (c: { holderName: string; holder: { agent: { name: string } } }) =>
  `${c.holderName}'s agent ${c.holder.agent.name}`;

export function describeConflict(c: ClaimConflict): string {
  return (
    `${c.yourPattern} overlaps ${c.theirPattern} (${c.mode}) held by ${holderText(c)} ` +
    `until ${until(c.expiresAt)}, e.g. ${c.witness} (claim ${c.claimId}, session ${c.holder.sessionId}); ask for it: brigade handoff ${c.claimId} --reason "…"`
  );
}

type Covering = Omit<CheckResult["results"][number]["violations"][number], "thread">;

export function describeCovering(path: string, c: Covering): string {
  return `${path}: inside ${c.mode} claim ${c.pattern} of ${holderText(c)} until ${until(c.expiresAt)}${c.reason ? ` — "${c.reason}"` : ""} (claim ${c.claimId}, session ${c.holder.sessionId})`;
}
