import { createBrigadeClient, ok } from "../../sdk/client.js";
import { configPath, readConfig, writeConfig } from "../config.js";
import type { Context } from "../context.js";
import { usageError } from "../errors.js";

/** The token from a hidden prompt on a terminal, or the first line of piped standard input. */
async function readToken(): Promise<string> {
  if (!process.stdin.isTTY) {
    const { readStdin } = await import("../hooks/stdin.js");
    const token = (await readStdin()).trim().split("\n")[0]?.trim() ?? "";
    if (!token) throw usageError("no token: pass --token, or pipe it on standard input (brigade login --server URL < token.txt)");
    return token;
  }
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing while the token is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  process.stderr.write("Token (input hidden): ");
  const token = await new Promise<string>((resolve) => rl.question("", resolve));
  rl.close();
  process.stderr.write("\n");
  if (!token.trim()) throw usageError("no token given");
  return token.trim();
}

export async function login(ctx: Context, options: { server?: string; token?: string }) {
  let server: string;
  const given = options.server ?? ctx.settings().server;
  if (!given) throw usageError("--server is needed the first time: brigade login --server URL");
  try {
    const url = new URL(given);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    server = url.toString().replace(/\/+$/, "");
  } catch {
    throw usageError(`--server must be an http(s) URL, got ${JSON.stringify(given)}`);
  }
  const token = options.token ?? (await readToken());
  // Check the pair before storing it, so a typo never becomes the saved config.
  const client = createBrigadeClient({ baseUrl: server, token, timeoutMs: ctx.settings().timeoutMs });
  const me = await ok(client.api.GET("/v1/me"));
  const stored = readConfig();
  writeConfig({
    ...stored,
    server,
    token,
    user: { id: me.user.id, name: me.user.name, orgId: me.org.id, org: me.org.slug },
  });
  ctx.out.result(
    { server, user: me.user, org: me.org, config: configPath() },
    `Logged in to ${server} as ${me.user.name} (${me.user.role}, organisation ${me.org.slug}); saved in ${configPath()}`,
  );
}

export async function logout(ctx: Context) {
  const stored = readConfig();
  const { token: _token, user: _user, ...rest } = stored;
  writeConfig(rest);
  ctx.out.result({ server: stored.server ?? null, loggedOut: true }, `Forgot the token for ${stored.server ?? "(no server)"}`);
}

export async function whoami(ctx: Context) {
  const me = await ok(ctx.client("user").api.GET("/v1/me"));
  ctx.out.result(me, () => {
    const via = me.via === "session" ? ` (session token for ${me.sessionId})` : ` (${me.via} token)`;
    return `${me.user.name} — ${me.user.role} in ${me.org.slug}${via} at ${ctx.settings().server}`;
  });
}
