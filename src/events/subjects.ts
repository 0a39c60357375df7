/**
 * The NATS subjects events travel on. Pure functions, shared by the relay that publishes and
 * by everything that subscribes (the WebSocket stream, the SDK):
 *
 * - `<prefix>.<orgId>.events.<type>`                 every event (`claim.granted` → `….events.claim.granted`)
 * - `<prefix>.<orgId>.repo.<repoToken>.<type>`       events of one repository
 * - `<prefix>.<orgId>.alerts.<recipientType>.<id>`   alerts addressed to a session, user or team
 *
 * The prefix is `brigade` unless configured (NATS_SUBJECT_PREFIX); the JetStream stream
 * covers `<prefix>.>`.
 *
 * Outside that tree, so neither stored nor readable with any credential Brigade issues:
 *
 * - `<prefix>-fanout.<orgId>`                       an event's many alerts in one message, for
 *                                                   the servers' live streams (`fanoutMessages`)
 */

const TOKEN = /^[^\s.*>]+$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const EVENT_TYPE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
const READABLE = /[a-z0-9-]/;

export type RecipientType = "session" | "user" | "team";

/** True for a valid subject prefix: one or more dot-separated tokens of [A-Za-z0-9_-]. */
export const isValidSubjectPrefix = (prefix: string) => PREFIX.test(prefix);

function token(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Error(`${what} "${value}" cannot be a subject token`);
  return value;
}

function eventType(type: string): string {
  if (!EVENT_TYPE.test(type)) throw new Error(`event type "${type}" is not subject-safe`);
  return type;
}

const encoder = new TextEncoder();
// `ignoreBOM`: a key that starts with U+FEFF keeps it (by default the decoder drops a leading one).
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A repo key as one subject token: [a-z0-9-] stay as they are, every other byte of its UTF-8
 * becomes `_` and two lower-case hex digits (`github.com/acme/api` → `github_2ecom_2facme_2fapi`).
 * Deterministic and reversible (`repoKeyFromSubjectToken`).
 */
export function repoSubjectToken(repoKey: string): string {
  if (!repoKey) throw new Error("an empty repo key has no subject token");
  let out = "";
  for (const char of repoKey) {
    if (READABLE.test(char)) out += char;
    else for (const byte of encoder.encode(char)) out += `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** The inverse of `repoSubjectToken`; throws on a token it could not have produced. */
export function repoKeyFromSubjectToken(subjectToken: string): string {
  if (!/^([a-z0-9-]|_[0-9a-f]{2})+$/.test(subjectToken)) throw new Error(`"${subjectToken}" is not a repo subject token`);
  const bytes: number[] = [];
  for (let i = 0; i < subjectToken.length; ) {
    if (subjectToken[i] === "_") {
      bytes.push(parseInt(subjectToken.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(subjectToken.charCodeAt(i));
      i += 1;
    }
  }
  const key = decoder.decode(new Uint8Array(bytes));
  // Only the canonical spelling is accepted, so a key has exactly one token.
  if (repoSubjectToken(key) !== subjectToken) throw new Error(`"${subjectToken}" is not a canonical repo subject token`);
  return key;
}

export type ParsedSubject =
  | { kind: "events"; orgId: string; type: string }
  | { kind: "repo"; orgId: string; repo: string; type: string }
  | { kind: "alerts"; orgId: string; recipient: { type: RecipientType; id: string } }
  | { kind: "fanout"; orgId: string };

/** Subject builders for one prefix. Wildcard forms (`all…`) are for subscriptions. */
export function subjectsFor(prefix: string) {
  if (!isValidSubjectPrefix(prefix)) throw new Error(`subject prefix "${prefix}" must be dot-separated tokens of [A-Za-z0-9_-]`);
  const org = (orgId: string) => `${prefix}.${token(orgId, "org id")}`;
  return {
    prefix,
    /** Everything Brigade publishes: what the JetStream stream covers. */
    all: `${prefix}.>`,
    event: (orgId: string, type: string) => `${org(orgId)}.events.${eventType(type)}`,
    repo: (orgId: string, repoKey: string, type: string) => `${org(orgId)}.repo.${repoSubjectToken(repoKey)}.${eventType(type)}`,
    alert: (orgId: string, recipient: { type: RecipientType; id: string }) =>
      `${org(orgId)}.alerts.${token(recipient.type, "recipient type")}.${token(recipient.id, "recipient id")}`,
    /** Every event of an organisation, or of one type family: `allEvents(org, "claim")` → `….events.claim.>`. */
    allEvents: (orgId: string, typePrefix?: string) => `${org(orgId)}.events.${typePrefix ? `${eventType(typePrefix)}.` : ""}>`,
    allRepo: (orgId: string, repoKey: string) => `${org(orgId)}.repo.${repoSubjectToken(repoKey)}.>`,
    allAlerts: (orgId: string, recipient?: { type: RecipientType; id: string }) =>
      recipient
        ? `${org(orgId)}.alerts.${token(recipient.type, "recipient type")}.${token(recipient.id, "recipient id")}`
        : `${org(orgId)}.alerts.>`,
    /** An organisation's alert batches for the servers' live streams: not in the stream, issued to no client. */
    fanout: (orgId: string) => `${prefix}-fanout.${token(orgId, "org id")}`,
    allFanout: `${prefix}-fanout.*`,
    /** Reads a concrete subject back; null when it is not one of Brigade's. */
    parse(subject: string): ParsedSubject | null {
      if (subject.startsWith(`${prefix}-fanout.`)) {
        const orgId = subject.slice(prefix.length + 8);
        return TOKEN.test(orgId) ? { kind: "fanout", orgId } : null;
      }
      if (!subject.startsWith(`${prefix}.`)) return null;
      const [orgId, kind, ...rest] = subject.slice(prefix.length + 1).split(".");
      if (!orgId || !kind) return null;
      if (kind === "events" && rest.length > 0) return { kind, orgId, type: rest.join(".") };
      if (kind === "repo" && rest.length > 1) {
        try {
          return { kind, orgId, repo: repoKeyFromSubjectToken(rest[0]!), type: rest.slice(1).join(".") };
        } catch {
          return null;
        }
      }
      if (kind === "alerts" && rest.length === 2 && ["session", "user", "team"].includes(rest[0]!)) {
        return { kind, orgId, recipient: { type: rest[0] as RecipientType, id: rest[1]! } };
      }
      return null;
    },
  };
}
export type Subjects = ReturnType<typeof subjectsFor>;

/** The JetStream message id (`Nats-Msg-Id`) of each subject an event goes to; unique stream-wide. */
export const messageIds = {
  event: (eventId: string) => eventId,
  repo: (eventId: string) => `${eventId}.repo`,
  alert: (alertId: string) => alertId,
};

/** The default stream name for a prefix: `brigade` → `BRIGADE`, `t.relay-1` → `T_RELAY-1`. */
export const defaultStreamName = (prefix: string) => prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, "_");
