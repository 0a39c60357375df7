/**
 * One-line descriptions of alerts, for people and agents alike (the CLI, the agent hooks and
 * the MCP tools say the same thing, including what to do next).
 */
import type { AlertItem } from "./client.js";

type Payload = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v));
const list = (v: unknown) => (Array.isArray(v) ? v.map(str).join(" ") : str(v));

export function describeAlert(alert: Pick<AlertItem, "id" | "type" | "event">): string {
  const p = alert.event.payload as Payload;
  const where = alert.event.repo ? ` in ${alert.event.repo}` : "";
  switch (alert.type) {
    case "claim.conflicted": {
      const conflicts = Array.isArray(p["conflicts"]) ? (p["conflicts"] as Payload[]) : [];
      const first = conflicts[0];
      const overlap = first
        ? `: ${str(first["yourPattern"])} overlaps ${str(first["theirPattern"])} of session ${str((first["holder"] as Payload | undefined)?.["sessionId"])} (e.g. ${str(first["witness"])})`
        : "";
      const outcome = p["outcome"] === "granted_with_warning" ? "granted with a warning" : "rejected";
      return `claim conflict${where}: session ${str(p["sessionId"])} claimed ${list(p["patterns"])} (${outcome})${overlap}${conflicts.length > 1 ? `, and ${conflicts.length - 1} more` : ""}`;
    }
    case "touch.conflict":
      return p["kind"] === "claim"
        ? `edit conflict${where}: session ${str(p["sessionId"])} edited ${str(p["path"])} inside claim ${str(p["claimId"])} of session ${str(p["otherSessionId"])}`
        : `edit conflict${where}: sessions ${str(p["sessionId"])} and ${str(p["otherSessionId"])} both edit ${str(p["path"])}`;
    case "handoff.requested":
      return `handoff requested${where}: session ${str(p["requesterSessionId"])} asks for claim ${str(p["claimId"])} ("${str(p["reason"])}"); answer with brigade handoff answer ${str(p["handoffId"])} accept|decline|defer (MCP: answer via the CLI)`;
    case "handoff.answered":
      return `handoff ${str(p["answer"])}${where}: claim ${str(p["claimId"])}${p["eta"] ? `, expected by ${str(p["eta"])}` : ""}${p["note"] ? ` ("${str(p["note"])}")` : ""}${p["answer"] === "accept" ? "; the claim is released: claim it now" : ""}`;
    case "claim.broken":
      return `claim ${str(p["claimId"])} broken${where} by ${str(p["brokenBy"])}: ${str(p["reason"])}`;
    case "claim.expired":
      return `claim ${str(p["claimId"])} expired${where}; claim again if you still need it`;
    case "session.expired":
      return `session ${alert.event.subject.id} expired${where} (no heartbeat); its claims are released`;
    case "conflict.acknowledged":
      return `conflict ${str(p["conflictId"])} acknowledged${where} by the other side`;
    case "conflict.resolved":
      return `conflict ${str(p["conflictId"])} resolved${where} (${str(p["resolution"])})`;
    default:
      return `${alert.type}${where}: ${JSON.stringify(p)}`;
  }
}
