import { createBrigadeClient, ok } from "../../sdk/client.js";
import { configPath, readConfig, writeConfig } from "../config.js";
import type { Context } from "../context.js";
import { usageError } from "../errors.js";

export async function login(ctx: Context, options: { server: string; token: string }) {
  let server: string;
  try {
    const url = new URL(options.server);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    server = url.toString().replace(/\/+$/, "");
  } catch {
    throw usageError(`--server must be an http(s) URL, got ${JSON.stringify(options.server)}`);
  }
  // Check the pair before storing it, so a typo never becomes the saved config.
  const client = createBrigadeClient({ baseUrl: server, token: options.token, timeoutMs: ctx.settings().timeoutMs });
  const me = await ok(client.api.GET("/v1/me"));
  const stored = readConfig();
  writeConfig({
    ...stored,
    server,
    token: options.token,
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
