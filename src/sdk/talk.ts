/**
 * How a refused caller talks a claim over with its holder, for the clients (CLI, MCP, hooks):
 * the words live with the claims domain (`claims.talk.ts`, pure), which the server's own hook
 * endpoint speaks too, so every client and the server say the same thing.
 */
export * from "../modules/claims/claims.talk.js";
