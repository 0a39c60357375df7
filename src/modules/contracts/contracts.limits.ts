import { defineErrors } from "../../http/problem.js";

/** Deepest bracket nesting GraphQL SDL may have; real schemas stay within a handful of levels. */
export const MAX_SDL_DEPTH = 256;

const limitErrors = defineErrors({ tooDeep: [422, "contracts.too_deep"] });

/**
 * A linear scan of SDL text for its deepest `(`, `[` or `{` nesting, skipping strings, block
 * strings and comments. graphql-js parses (and later walks) nested list types and values by
 * recursion, so thousands of levels overflow its stack: refusing them here costs one pass and
 * no recursion. Unbalanced brackets are left for the parser to report.
 */
export function sdlDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < n && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (text.startsWith('"""', i)) {
        // Block string: ends at the next unescaped """.
        i += 3;
        while (i < n && !text.startsWith('"""', i)) i += text.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < n && text.charCodeAt(i) !== 0x22 && text.charCodeAt(i) !== 0x0a) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      }
    } else if (c === 0x28 || c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x29 || c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    }
  }
  return deepest;
}

/** Throws 422 `contracts.too_deep` when SDL nests deeper than MAX_SDL_DEPTH. */
export function assertSdlDepth(text: string, field = "content"): void {
  const depth = sdlDepth(text);
  if (depth <= MAX_SDL_DEPTH) return;
  const reason = `nests ${depth} levels deep; at most ${MAX_SDL_DEPTH} are accepted`;
  throw limitErrors.tooDeep(`The GraphQL SDL ${reason}.`, { errors: [{ field, reason }], limit: MAX_SDL_DEPTH });
}
