/** Every table, for drizzle-kit and for the typed database handle. */
export * from "./infra/orgs.table.js";
export * from "./modules/identity/identity.table.js";
export * from "./modules/sessions/sessions.table.js";
export * from "./events/tables.js";
export * from "./modules/claims/claims.table.js";
export * from "./modules/ownership/ownership.table.js";
export * from "./modules/repos/repos.table.js";
export * from "./modules/conflicts/conflicts.table.js";
export * from "./modules/contracts/contracts.table.js";
export * from "./modules/messages/messages.table.js";
export * from "./modules/limits/limits.table.js";
export * from "./modules/delivery/stream.table.js";
export * from "./modules/trees/trees.table.js";
