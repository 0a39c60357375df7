/** The command tree (commander). Each command's code is imported only when it runs. */
import { readFileSync } from "node:fs";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { Handler } from "./context.js";
import { CliError, EXIT_FAILED, EXIT_USAGE, fail } from "./errors.js";

const version = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();

type Loader = () => Promise<Handler>;

let exitCode = 0;

/** Runs a command's handler, imported on demand, with the parsed arguments. */
function lazy(load: Loader) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals() as Record<string, unknown>;
    const positional = args.slice(0, -2);
    const { makeContext } = await import("./context.js");
    const ctx = makeContext(options);
    try {
      const handler = await load();
      exitCode = (await handler(ctx, ...positional, options)) ?? 0;
    } catch (err) {
      const gone = await ctx.sessionGone(err);
      exitCode = fail(gone ? new CliError(gone, EXIT_FAILED, "cli.session_gone") : err, Boolean(options["json"]));
    }
  };
}

const program = new Command("brigade")
  .description("Brigade from the command line: sessions, claims, checks, alerts, hooks and the MCP server")
  .version(version, "-V, --version")
  .option("--json", "machine-readable output (one JSON document, or NDJSON for watch)")
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(
        `${text
          .split("\n")
          .filter(Boolean)[0]!
          .replace(/^error: /, "brigade: ")}\n`,
      ),
  });

const intArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number of seconds`);
  return Number(v);
};

// ── account ──────────────────────────────────────────────────────────────────
program
  .command("login")
  .description("store the server and your token (in the user's config folder, mode 0600)")
  .option("--server <url>", "Brigade's URL, e.g. http://127.0.0.1:8080 (default: the stored one, or BRIGADE_URL)")
  .option("--token <token>", "a personal token (default: asked for, or read from standard input; keeps it out of shell history)")
  .action(lazy(async () => (await import("./commands/account.js")).login));
program
  .command("logout")
  .description("forget the stored token")
  .action(lazy(async () => (await import("./commands/account.js")).logout));
program
  .command("whoami")
  .description("who the token belongs to")
  .action(lazy(async () => (await import("./commands/account.js")).whoami));

program
  .command("status")
  .description("the server, who you are, the current session and its lease, its claims, unacknowledged alerts")
  .option("--session <id>", "this session (default: the current one)")
  .action(lazy(async () => (await import("./commands/status.js")).status));

// ── onboarding: tokens, users, teams ─────────────────────────────────────────
{
  const load = async () => await import("./commands/admin.js");
  const token = program.command("token").description("personal tokens: create, list, revoke");
  token
    .command("create")
    .description("mint a personal token (shown once)")
    .argument("<name>", "what it is for, e.g. 'laptop'")
    .option("--ttl <seconds>", "how long it is valid", intArg("--ttl"))
    .option("--user <user>", "for another user (admins): handle, e-mail or id")
    .action(lazy(async () => (await load()).tokenCreate));
  token
    .command("list")
    .description("your tokens (another user's with --user, admins)")
    .option("--all", "revoked ones too")
    .option("--user <user>", "handle, e-mail or id")
    .action(lazy(async () => (await load()).tokenList));
  token
    .command("revoke")
    .description("revoke a token at once")
    .argument("<id>", "the token's id")
    .action(lazy(async () => (await load()).tokenRevoke));
  const users = program.command("users").description("the organisation's people: add, list, role, delete");
  users
    .command("add")
    .description("add a user (admins) and mint their first token")
    .argument("<name>", "their handle, e.g. alice")
    .option("--role <role>", "admin, lead or member", "member")
    .option("--email <email>", "their e-mail")
    .option("--display-name <name>", "how they are named in alerts")
    .option("--no-token", "do not mint a first token")
    .action(lazy(async () => (await load()).usersAdd));
  users
    .command("list")
    .description("everyone in the organisation")
    .option("--deleted", "deleted users too (as placeholders)")
    .action(lazy(async () => (await load()).usersList));
  users
    .command("role")
    .description("change a user's role (admins)")
    .argument("<user>", "handle, e-mail or id")
    .argument("<role>", "admin, lead or member")
    .action(lazy(async () => (await load()).usersRole));
  users
    .command("delete")
    .description('delete a user (admins): ends their sessions, revokes their tokens; their messages stay, as "deleted user"')
    .argument("<user>", "handle, e-mail or id")
    .option("--yes", "confirm: without it nothing is deleted")
    .action(lazy(async () => (await load()).usersDelete));
  const teams = program.command("teams").description("teams: create, list, add, remove");
  teams
    .command("create")
    .description("create a team")
    .argument("<name>", "its handle, e.g. payments")
    .option("--description <text>", "what the team does")
    .action(lazy(async () => (await load()).teamsCreate));
  teams
    .command("list")
    .description("teams and their members")
    .action(lazy(async () => (await load()).teamsList));
  teams
    .command("add")
    .description("add users to a team")
    .argument("<team>", "team name or id")
    .argument("<users...>", "handles, e-mails or ids")
    .action(lazy(async () => (await load()).teamsAdd));
  teams
    .command("remove")
    .description("remove users from a team")
    .argument("<team>", "team name or id")
    .argument("<users...>", "handles, e-mails or ids")
    .action(lazy(async () => (await load()).teamsRemove));
}

// ── sessions ─────────────────────────────────────────────────────────────────
const session = program.command("session").description("agent sessions: start, heartbeat, end, list");
const sessionStartOptions = (c: Command) =>
  c
    .option("--agent <name>", "the agent's name (stable across restarts)")
    .option("--kind <kind>", "claude-code, codex, cursor, custom, …")
    .option("--task <text>", "what the session works on")
    .option("--ttl <seconds>", "lease length; heartbeats extend it", intArg("--ttl"))
    .option("--repo <remote>", "the repository (default: this folder's git remote)");
sessionStartOptions(session.command("start").description("register a session for this repository and remember it for this worktree"))
  .option("--no-save", "do not remember the session for this worktree")
  .action(lazy(async () => (await import("./commands/session.js")).start));
session
  .command("heartbeat")
  .description("extend the session's lease")
  .argument("[id]", "session id (default: the current session)")
  .addOption(new Option("--activity <activity>", "what the agent is doing").choices(["working", "idle", "waiting", "blocked"]))
  .option("--task <text>", "update the task text")
  .action(lazy(async () => (await import("./commands/session.js")).heartbeat));
session
  .command("end")
  .description("end the session (its claims are released)")
  .argument("[id]", "session id (default: the current session)")
  .action(lazy(async () => (await import("./commands/session.js")).end));
session
  .command("list")
  .description("live sessions (of this repository with --here)")
  .option("--here", "only this repository's")
  .option("--repo <remote>", "only this repository's")
  .option("--all", "ended and expired ones too")
  .action(lazy(async () => (await import("./commands/session.js")).list));

sessionStartOptions(
  program.command("run").description("run a command inside a session: registered before, heartbeated during, ended after"),
)
  .option("--allow-offline", "run the command without a session when the server cannot be reached")
  .argument("<command...>", "the command, after -- (brigade run --task 'fix login' -- claude)")
  .action(lazy(async () => (await import("./commands/run.js")).run));

// ── claims ───────────────────────────────────────────────────────────────────
const sessionOption = (c: Command) => c.option("--session <id>", "act for this session (default: the current one)");
sessionOption(
  program
    .command("claim")
    .description("claim areas of the repository (CODEOWNERS-style patterns)")
    .argument("<patterns...>", "e.g. 'src/auth/**' docs/api.md")
    .option("--shared", "shared: conflicts only with exclusive claims")
    .option("--ttl <seconds>", "lease length", intArg("--ttl"))
    .option("--warn", "grant even when it overlaps others' claims (they are alerted)")
    .option("--queue", "when blocked, wait in the queue: granted automatically (first come, first served) when the holders release")
    .option("--max-wait <seconds>", "with --queue: leave the queue after this long", intArg("--max-wait"))
    .option("--reason <text>", "why, shown to whoever it conflicts with"),
).action(lazy(async () => (await import("./commands/claims.js")).claim));
sessionOption(
  program
    .command("release")
    .description("release claims (given by id or pattern; default: all of the session's)")
    .argument("[claims...]", "claim ids or patterns")
    .option("--note <text>", "told to those refused on the claims and those waiting for them"),
).action(lazy(async () => (await import("./commands/claims.js")).release));
const queue = program.command("queue").description("the session's claim queue entries: list them, or leave one");
sessionOption(
  queue
    .command("list", { isDefault: true })
    .description("queue entries with their position and what they wait for")
    .option("--all", "also entries that ended (granted, left, expired)"),
).action(lazy(async () => (await import("./commands/claims.js")).queueList));
sessionOption(queue.command("leave").description("stop waiting: leave the queue").argument("<entry>", "the queue entry id")).action(
  lazy(async () => (await import("./commands/claims.js")).queueLeave),
);
sessionOption(
  program
    .command("renew")
    .description("extend claims' leases (given by id or pattern; default: all of the session's)")
    .argument("[claims...]", "claim ids or patterns")
    .option("--ttl <seconds>", "new lease length", intArg("--ttl")),
).action(lazy(async () => (await import("./commands/claims.js")).renew));
program
  .command("claims")
  .description("live claims in this repository (or --repo, or --all), with their holders")
  .option("--repo <remote>", "this repository (default: this folder's git remote)")
  .option("--all", "every repository's")
  .option("--mine", "only your sessions' claims")
  .action(lazy(async () => (await import("./commands/status.js")).claims));
program
  .command("who")
  .description("who owns a path: CODEOWNERS, modules and live claims")
  .argument("<path>", "a repository path")
  .option("--repo <remote>", "the repository (default: this folder's git remote)")
  .action(lazy(async () => (await import("./commands/claims.js")).who));
sessionOption(
  program
    .command("check")
    .description("fail when paths lie inside other sessions' exclusive claims (shared ones are notices)")
    .argument("[paths...]", "repository paths")
    .option("--staged", "the files staged for commit")
    .option("--repo <remote>", "the repository (default: the session's, or this folder's git remote)"),
).action(lazy(async () => (await import("./commands/claims.js")).check));
const handoff = program.command("handoff").description("ask a claim's holder to hand it over, or answer such a request");
sessionOption(
  handoff
    .command("request", { isDefault: true })
    .description("ask the holder of a claim to release it")
    .argument("<claim>", "the claim id (from a conflict)")
    .requiredOption("--reason <text>", "why you need it"),
).action(lazy(async () => (await import("./commands/claims.js")).handoffRequest));
handoff
  .command("answer")
  .description("answer a handoff request for your claim")
  .argument("<handoff>", "the handoff id (from the alert)")
  .addArgument(new Argument("<answer>", "accept, decline or defer").choices(["accept", "decline", "defer"]))
  .option("--eta <seconds>", "with defer: when you expect to release", intArg("--eta"))
  .option("--note <text>", "a note for the requester")
  .action(lazy(async () => (await import("./commands/claims.js")).handoffAnswer));

// ── alerts ───────────────────────────────────────────────────────────────────
sessionOption(
  program
    .command("alerts")
    .description("unacknowledged alerts (the session's, or yours)")
    .option("--ack <ids...>", "acknowledge these alerts")
    .option("--all", "acknowledged ones too")
    .option("--type <type>", "only this event type, e.g. claim.conflicted"),
).action(lazy(async () => (await import("./commands/alerts.js")).alerts));
sessionOption(
  program
    .command("watch")
    .description("live alerts as they happen (reconnects and resumes); NDJSON with --json")
    .option("--after <eventId>", "resume after this event"),
).action(lazy(async () => (await import("./commands/alerts.js")).watch));

// ── messages ─────────────────────────────────────────────────────────────────
{
  const msg = program
    .command("msg")
    .description(
      "messages between agents, developers and leads: send, reply, inbox, thread, ack, search (as the current session, else as you)",
    );
  const load = async () => await import("./commands/msg.js");
  const limit = (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 200) throw new InvalidArgumentError("--limit is a whole number from 1 to 200");
    return Number(v);
  };
  sessionOption(
    msg
      .command("send")
      .description("start a thread: to a session, a user, a team or (leads and admins) the organisation")
      .requiredOption("--to <audience>", "session:<id>, user:<id|name|email>, team:<id|name> or organisation")
      .requiredOption("--subject <text>", "one line the recipient sees first")
      .option("--body <text>", "Markdown (default: read from stdin)")
      .option("--ack", "a directive: each recipient agent must acknowledge it")
      .option("--importance <level>", "low, normal, high or urgent")
      .option("--until <time>", "with --ack: sessions starting before then receive it too (ISO 8601)")
      .option(
        "--about <object>",
        "what it is about: claim:<id> (as a refused claim prints it), handoff:<id>, contract:<id>, … or path:<repo>#<path>",
      ),
  ).action(lazy(async () => (await load()).send));
  sessionOption(
    msg
      .command("reply")
      .description("answer a message in its thread")
      .argument("<message>", "the message's id")
      .option("--body <text>", "Markdown (default: read from stdin)")
      .option("--ack", "ask the readers to acknowledge this reply")
      .option("--importance <level>", "low, normal, high or urgent"),
  ).action(lazy(async () => (await load()).reply));
  sessionOption(
    msg
      .command("inbox")
      .description("your unread messages, newest first")
      .option("--all", "read ones too")
      .option("--needs-ack", "only directives you have not acknowledged")
      .option("--sent", "what you sent")
      .option("--thread <id>", "only this thread's messages")
      .option("--limit <n>", "at most this many (default 50)", limit),
  ).action(lazy(async () => (await load()).inbox));
  sessionOption(
    msg
      .command("thread")
      .description("a whole thread, oldest first (marks its messages read)")
      .argument("<id>", "the thread's id, or any of its messages' ids"),
  ).action(lazy(async () => (await load()).thread));
  sessionOption(
    msg
      .command("ack")
      .description("acknowledge messages (directives); acknowledging again changes nothing")
      .argument("<messages...>", "message ids"),
  ).action(lazy(async () => (await load()).ack));
  sessionOption(
    msg
      .command("search")
      .description("full-text search over the messages you may read")
      .argument("<words...>", 'words, "quoted phrases", -excluded')
      .option("--limit <n>", "at most this many (default 50)", limit),
  ).action(lazy(async () => (await load()).search));
}

// ── contracts ────────────────────────────────────────────────────────────────
{
  const contracts = program.command("contracts").description("interface contracts: publish, check, propose, list, diff");
  const load = async () => await import("./commands/contracts.js");
  contracts
    .command("list")
    .description("contracts (of this repository with --repo)")
    .option("--repo <remote>", "only those this repository provides or consumes")
    .action(lazy(async () => (await load()).list));
  contracts
    .command("publish")
    .description("publish a new version of a contract from a file")
    .argument("<name>", "the contract's name")
    .argument("<file>", "the spec file (OpenAPI, AsyncAPI, JSON Schema, GraphQL, text)")
    .option("--label <label>", "the version's label, a semver or git sha (default: this commit's short sha)")
    .option("--force", "publish even if incompatible with the policy (needs --reason)")
    .option("--reason <text>", "why an incompatible version is forced; sent to the consumers")
    .action(lazy(async () => (await load()).publish));
  contracts
    .command("check")
    .description("would this file break the contract? (exit 1 when it would)")
    .argument("<name>", "the contract's name")
    .argument("<file>", "the candidate spec file")
    .option("--label <label>", "the label it would be published under")
    .action(lazy(async () => (await load()).check));
  sessionOption(
    contracts
      .command("propose")
      .description("propose a change to a contract (its consumers are alerted)")
      .argument("<name>", "the contract's name")
      .argument("<file>", "the proposed spec file")
      .option("--label <label>", "the label it is meant to be published under")
      .option("--reason <text>", "what changes and why"),
  ).action(lazy(async () => (await load()).propose));
  contracts
    .command("diff")
    .description("changes between two versions, or between the latest version and a file")
    .argument("<name>", "the contract's name")
    .argument("[from]", "a version, or a file")
    .argument("[to]", "a version (default: the latest)")
    .action(lazy(async () => (await load()).diff));
}

// ── hooks ────────────────────────────────────────────────────────────────────
const hooks = program.command("hooks").description("install Brigade's git or agent hooks");
hooks
  .command("install")
  .description("git pre-commit and pre-push guards (default), or an agent's hooks")
  .addOption(new Option("--agent <agent>", "install the agent's hooks into the project's settings instead").choices(["claude-code"]))
  .option("--force", "replace an existing .local hook left from an earlier install")
  .option("--command <cmd>", "how the agent's command hooks call brigade (default: brigade)")
  .option("--project", "write the shared .claude/settings.json (command hooks that work for teammates with brigade)")
  .addOption(
    new Option("--transport <how>", "HTTP hooks answered by the server, command hooks, or HTTP when the server takes them")
      .choices(["auto", "http", "command"])
      .default("auto"),
  )
  .action(lazy(async () => (await import("./commands/hooks-install.js")).install));
hooks
  .command("uninstall")
  .description("remove Brigade's git hooks (restoring chained ones), or an agent's hooks")
  .addOption(new Option("--agent <agent>", "remove the agent's hooks from the project's settings").choices(["claude-code"]))
  .option("--project", "from the shared .claude/settings.json")
  .action(lazy(async () => (await import("./commands/hooks-install.js")).uninstall));

const hook = program.command("hook").description("run by the installed hooks (reads the hook's input on stdin)");
hook
  .command("pre-edit")
  .description("Claude Code PreToolUse: block an edit inside another session's exclusive claim")
  .action(lazy(async () => (await import("./hooks/edit-guard.js")).preEdit));
hook
  .command("session-start")
  .description("Claude Code SessionStart: open a session, show unacknowledged alerts")
  .action(lazy(async () => (await import("./hooks/claude.js")).sessionStart));
hook
  .command("post-bash")
  .description("Claude Code PostToolUse on Bash: report the files the command changed (git), warn of others' claims")
  .action(lazy(async () => (await import("./hooks/claude.js")).postBash));
hook
  .command("prompt-submit")
  .description("Claude Code UserPromptSubmit: heartbeat, new alerts and messages (each once)")
  .action(lazy(async () => (await import("./hooks/claude.js")).promptSubmit));
hook
  .command("session-end")
  .description("Claude Code SessionEnd: end the session SessionStart opened")
  .action(lazy(async () => (await import("./hooks/claude.js")).sessionEnd));
hook
  .command("pre-commit")
  .description("git pre-commit: check the staged files")
  .action(lazy(async () => (await import("./hooks/git.js")).preCommit));
hook
  .command("pre-push")
  .description("git pre-push: check the files changed by the pushed commits")
  .argument("[remote]", "the remote's name (git passes it)")
  .argument("[url]", "the remote's URL (git passes it)")
  .action(lazy(async () => (await import("./hooks/git.js")).prePush));

// ── mcp ──────────────────────────────────────────────────────────────────────
program
  .command("mcp")
  .description("an MCP server over stdio (for `claude mcp add brigade -- brigade mcp` and other MCP clients)")
  .action(lazy(async () => (await import("./commands/mcp.js")).mcp));

/** Parses argv and runs the command; resolves to the exit code. */
export async function runProgram(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version succeed; help shown because no command was given is a usage error.
      const done = err.code === "commander.helpDisplayed" || err.code === "commander.version";
      return done ? 0 : EXIT_USAGE;
    }
    return fail(err, argv.includes("--json"));
  }
}
