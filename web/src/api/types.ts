/**
 * The API shapes the dashboard reads, as openapi.yaml describes them (components/schemas).
 * Only the fields the dashboard uses are listed. test/dashboard/types.test.ts checks at
 * compile time (`npm run typecheck`) that the server's own zod schemas still fit these.
 */

export type Role = "admin" | "lead" | "member";

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail?: string;
  errors?: { field: string; reason: string }[];
  requestId?: string;
}

export interface User {
  id: string;
  name: string;
  displayName: string | null;
  email: string | null;
  role: Role;
}

export interface Team {
  id: string;
  name: string;
  description: string | null;
  members: string[];
}

export interface Me {
  user: User;
  org: { id: string; slug: string; name: string };
  via: "personal" | "session" | "bootstrap" | "oidc";
  sessionId: string | null;
  teams: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Session {
  id: string;
  userId: string;
  agent: { id: string; name: string; kind: string };
  repo: string;
  branch: string | null;
  host: string | null;
  task: string | null;
  status: "active" | "ended" | "expired";
  activity: "working" | "idle" | "waiting" | "blocked" | null;
  startedAt: string;
  lastHeartbeatAt: string;
  expiresAt: string;
}

export interface ClaimHolder {
  sessionId: string;
  userId: string;
  agent: { id: string; name: string };
}

export interface Claim {
  id: string;
  repo: string;
  sessionId: string;
  holder: ClaimHolder;
  patterns: string[];
  mode: "exclusive" | "shared";
  reason: string | null;
  fence: number;
  status: string;
  grantedAt: string;
  expiresAt: string;
}

export interface ConflictRecord {
  id: string;
  repo: string;
  kind: "claim" | "touch";
  status: "open" | "acknowledged" | "resolved";
  sessionId: string;
  userId: string;
  claimId: string | null;
  pattern: string | null;
  otherSessionId: string;
  otherUserId: string;
  otherClaimId: string | null;
  otherPattern: string | null;
  witness: string;
  openedEventId: string;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface BrigadeEvent {
  id: string;
  seq: number;
  type: string;
  time: string;
  actor: { type: "user" | "session" | "system"; id: string | null; userId?: string | null | undefined };
  subject: { type: string; id: string };
  repo: string | null;
  payload: Record<string, unknown>;
}

export interface Alert {
  id: string;
  type: string;
  recipient: { type: "session" | "user" | "team"; id: string };
  createdAt: string;
  ackedAt: string | null;
  event: BrigadeEvent;
}

export interface Overview {
  generatedAt: string;
  sessions: { active: number; withoutTeam: number; byTeam: { teamId: string; name: string; active: number }[] };
  claims: { active: number; repos: number; byRepo: { repo: string; active: number; sessions: number }[] };
  conflicts: { open: number; acknowledged: number };
  events24h: { total: number; byType: { type: string; count: number }[] };
}

export interface CodeownersFile {
  repo: string;
  rules: { line: number; pattern: string; owners: string[] }[];
  errors: { line: number; reason: string }[];
  updatedAt: string;
}

export interface PathOwners {
  repo: string;
  path: string;
  codeowners: { owners: string[]; rule: { line: number; pattern: string } | null; unowned: boolean } | null;
  modules: { name: string; patterns: string[]; teamId: string | null; matchedPattern: string }[];
  claims: { claimId: string; holder: ClaimHolder; mode: "exclusive" | "shared"; reason: string | null; pattern: string; since: string; expiresAt: string }[];
  contracts: { name: string; kind: string; providerTeamId: string; matchedPattern: string }[];
}

export type ChangeLevel = "breaking" | "non-breaking" | "annotation" | "unclassified";

export interface ContractChange {
  level: ChangeLevel;
  action: "add" | "remove" | "replace" | "rename" | null;
  location: string;
  message: string;
}

export interface ChangeSummary {
  breaking: number;
  nonBreaking: number;
  annotation: number;
  unclassified: number;
}

export interface ContractConsumer {
  id: string;
  kind: "team" | "user" | "repo";
  teamId: string | null;
  userId: string | null;
  repo: string | null;
  patterns: string[] | null;
}

export interface Contract {
  id: string;
  name: string;
  kind: string;
  description: string | null;
  providerTeamId: string;
  source: { repo: string; patterns: string[] } | null;
  compatibility: string;
  status: string;
  latestVersion: { id: string; label: string; seq: number; hash: string; createdAt: string } | null;
  consumers: ContractConsumer[];
  updatedAt: string;
}

export interface ContractVersion {
  id: string;
  seq: number;
  label: string;
  publishedBy: string;
  previousLabel: string | null;
  compatibility: { policy: string; compatible: boolean; checkedAgainst: string[] };
  forced: boolean;
  forceReason: string | null;
  summary: ChangeSummary;
  createdAt: string;
}

export interface ContractVersionDetail extends ContractVersion {
  changes: ContractChange[];
  changesTotal: number;
}

export interface ContractProposal {
  id: string;
  status: string;
  verdict: "pending" | "acked" | "objected";
  label: string | null;
  description: string | null;
  proposedBy: string;
  baseLabel: string | null;
  compatibility: { policy: string; compatible: boolean; checkedAgainst: string[] };
  summary: ChangeSummary;
  changes: ContractChange[];
  answers: { consumerId: string; answer: "ack" | "object"; comment: string | null; answeredBy: string; answeredAt: string }[];
  pending: string[];
  createdAt: string;
  closedAt: string | null;
  versionLabel: string | null;
}

/** Frames of /v1/stream the dashboard reads (src/modules/events/events.stream.schemas.ts). */
export type ServerFrame =
  | { type: "welcome"; protocol: number; orgId: string; userId: string; sessionId: string | null; role: Role; pingIntervalMs: number }
  | { type: "subscribed"; id: string; topic: "events" | "alerts"; after: string | null }
  | { type: "live"; id: string; replayed: number; position: number; after: string | null }
  | { type: "event"; sub: string; event: BrigadeEvent }
  | { type: "alert"; sub: string; alert: Alert }
  | { type: "unsubscribed"; id: string }
  | { type: "pong"; id?: string }
  | { type: "error"; code: string; message: string; id?: string };
