/** Every table, for drizzle-kit and for the typed database handle. */
export * from "./modules/identity/identity.table.js";
export * from "./modules/sessions/sessions.table.js";
export * from "./modules/events/events.table.js";
export * from "./modules/claims/claims.table.js";
export * from "./modules/ownership/ownership.table.js";
export * from "./modules/alerts/alerts.table.js";
export * from "./modules/contracts/contracts.table.js";
