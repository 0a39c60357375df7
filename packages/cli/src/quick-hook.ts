/**
 * The start of a hook bundle that runs without the CLI's context (`pre-edit`, which runs before
 * every edit): its handler makes one, from the bundle's other file, only when it takes its
 * whole path. Otherwise as `hook.ts`: the handler's exit code, once the output is written.
 */
import { fail } from "../../../src/cli/errors.js";

const drained = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => (stream.writableLength > 0 ? stream.once("drain", () => resolve()) : resolve()));

export function runQuickHook(handler: () => Promise<number>): void {
  handler()
    .catch((err: unknown) => fail(err, false))
    .then(async (code) => {
      await Promise.all([drained(process.stdout), drained(process.stderr)]);
      process.exit(code);
    });
}
