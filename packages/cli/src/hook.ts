/**
 * The start of one hook's bundle (`dist/hooks/<name>.cjs`, built by `build.mjs`): what
 * `brigade hook <name>` does in `src/cli/main.ts`, for that one hook, without the command parser,
 * the other hooks, or what only they import.
 */
import type { Handler } from "../../../src/cli/context.js";
import { makeContext } from "../../../src/cli/context.js";
import { fail } from "../../../src/cli/errors.js";
import { exitWhenWritten } from "./quick-hook.js";

/** Runs `handler` with the arguments after `brigade hook <name>`, then exits with its code. */
export function runHook(handler: Handler): void {
  const args = process.argv.slice(4);
  Promise.resolve()
    .then(() => handler(makeContext({}), ...args))
    .then(
      (code) => code ?? 0,
      (err: unknown) => fail(err, false),
    )
    .then(exitWhenWritten);
}
