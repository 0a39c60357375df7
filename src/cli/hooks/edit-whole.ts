/**
 * What the pre-edit hook's fast path (edit-guard.ts) loads when it hands over: the whole hook and
 * the context it runs in. One module, so that the hook's bundle can keep it in a file of its own
 * (`dist/hooks/pre-edit-whole.cjs`, read only when needed).
 */
export { makeContext } from "../context.js";
export { cannotCheckEdit, checkEditText } from "./claude.js";
