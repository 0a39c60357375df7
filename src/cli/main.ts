#!/usr/bin/env node
/**
 * `brigade`: the command line for Brigade.
 *
 * Exit codes: 0 done, 1 failed or blocked, 2 usage. Errors are one line on stderr (and, with
 * --json, `{"error":{…}}` on stdout); never a stack trace (BRIGADE_DEBUG=1 shows it).
 *
 * The hooks (`brigade hook …`) run before every edit, commit and push, so they skip the command
 * parser and load only what they use; everything else goes through `program.ts`.
 */
import { setFlagsFromString } from "node:v8";
import type { Handler } from "./context.js";
import { fail } from "./errors.js";

// fetch parses HTTP with llhttp compiled to WebAssembly; V8 recompiles it with its optimising
// tier on a background thread, and a process waits for that at exit (~50–90 ms added to every
// hook on a 2-core machine). A command line gains nothing from the optimised tier.
setFlagsFromString("--liftoff-only");

const HOOKS: Record<string, () => Promise<Handler>> = {
  "pre-edit": async () => (await import("./hooks/edit-guard.js")).preEdit,
  "session-start": async () => (await import("./hooks/claude.js")).sessionStart,
  "post-bash": async () => (await import("./hooks/claude.js")).postBash,
  "prompt-submit": async () => (await import("./hooks/claude.js")).promptSubmit,
  "session-end": async () => (await import("./hooks/claude.js")).sessionEnd,
  "pre-commit": async () => (await import("./hooks/git.js")).preCommit,
  "pre-push": async () => (await import("./hooks/git.js")).prePush,
};

async function main(argv: string[]): Promise<number> {
  const [command, name, ...rest] = argv.slice(2);
  const hook = command === "hook" && name ? HOOKS[name] : undefined;
  if (hook && rest.length <= 2 && rest.every((a) => !a.startsWith("-"))) {
    const [{ makeContext }, handler] = await Promise.all([import("./context.js"), hook()]);
    try {
      return (await handler(makeContext({}), ...rest)) ?? 0;
    } catch (err) {
      return fail(err, false);
    }
  }
  const { runProgram } = await import("./program.js");
  return runProgram(argv);
}

const code = await main(process.argv);
// Exit now rather than when the event loop drains: fetch keeps its idle keep-alive connection
// open for a while after the last response, which would add that much to every hook.
const drained = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => (stream.writableLength > 0 ? stream.once("drain", () => resolve()) : resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
