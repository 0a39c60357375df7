/**
 * The API shapes the dashboard reads: the SDK's types, generated from openapi.yaml
 * (`npm run openapi`), so the dashboard and the server cannot drift apart.
 */

import type { components } from "../../../src/sdk/schema.js";

export type Role = components["schemas"]["User"]["role"];

type Schemas = components["schemas"];

export type Problem = Schemas["Problem"];
export type User = Schemas["User"];
export type Team = Schemas["Team"];
export type Me = Schemas["Me"];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The fields the dashboard keeps: it also builds sessions from `session.started` events, which carry no more. */
export type Session = Pick<
  Schemas["Session"],
  "id" | "userId" | "agent" | "repo" | "branch" | "host" | "task" | "status" | "activity" | "startedAt" | "lastHeartbeatAt" | "expiresAt"
> &
  Partial<Pick<Schemas["Session"], "ttlSeconds" | "endedAt" | "worktree">>;
export type SessionLoad = Schemas["SessionLoad"];
export type ClaimHolder = Schemas["ClaimHolder"];
export type Claim = Schemas["Claim"];
export type ConflictRecord = Schemas["Conflict"];
export type BrigadeEvent = Schemas["Event"];
export type Alert = Schemas["Alert"];
export type Overview = Schemas["Overview"];
export type CodeownersFile = Schemas["CodeownersFile"];
export type PathOwners = Schemas["PathOwners"];
export type ContractChange = Schemas["ContractChange"];
export type ChangeLevel = ContractChange["level"];
export type ChangeSummary = Schemas["ContractChangeSummary"];
export type ContractConsumer = Schemas["ContractConsumer"];
export type Contract = Schemas["Contract"];
export type ContractVersion = Schemas["ContractVersion"];
export type ContractVersionDetail = Schemas["ContractVersionDetail"];
export type ContractProposal = Schemas["ContractProposal"];
export type Message = Schemas["Message"];
export type QueueEntry = Schemas["QueueEntry"];
export type Handoff = Schemas["Handoff"];
export type Thread = Schemas["Thread"];
export type MessageReceipts = Schemas["MessageReceipts"];
export type RepoLinkTemplate = Schemas["RepoLinkTemplate"];

/** Frames of /v1/stream the dashboard reads (src/modules/events/events.stream.schemas.ts). */
export type ServerFrame =
  | { type: "welcome"; protocol: number; orgId: string; userId: string; sessionId: string | null; role: Role; pingIntervalMs: number }
  | { type: "subscribed"; id: string; topic: "events" | "alerts"; after: string | null }
  | { type: "live"; id: string; replayed: number; position: number; after: string | null }
  | { type: "event"; sub: string; event: BrigadeEvent }
  | { type: "alert"; sub: string; alert: Alert }
  | { type: "unsubscribed"; id: string }
  | { type: "narrowed"; id: string; reason: "role_changed" | "team_left"; role?: Role; teamId?: string; message: string }
  | { type: "pong"; id?: string }
  | { type: "error"; code: string; message: string; id?: string };
