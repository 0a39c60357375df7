/** Brigade's client-side SDK: what local tools (CLI, MCP, agents' hooks) use to talk to Brigade. */
export * from "./subscribe.js";
export * from "./client.js";
export * from "./inject.js";
export * from "./trees.js";
