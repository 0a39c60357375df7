/**
 * The start of a hook bundle that runs without the CLI's context (`pre-edit`, which runs before
 * every edit): its handler makes one, from the bundle's other file, only when it takes its
 * whole path. `hook.ts` starts the other hooks and ends them the same way (`exitWhenWritten`).
 */
import { fail } from "../../../src/cli/errors.js";

const drained = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => (stream.writableLength > 0 ? stream.once("drain", () => resolve()) : resolve()));

/**
 * Exits with `code` once the output is written rather than when the event loop drains (an idle
 * keep-alive connection would hold it open).
 */
export async function exitWhenWritten(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

export function runQuickHook(handler: () => Promise<number>): void {
  handler()
    .catch((err: unknown) => fail(err, false))
    .then(exitWhenWritten);
}
