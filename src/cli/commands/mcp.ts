import { readFileSync } from "node:fs";
import { createBrigadeClient } from "../../sdk/client.js";
import type { Context } from "../context.js";
import { currentBranch, remoteUrl, repoRelative, worktreeOf, worktreeRoot } from "../git.js";

export async function mcp(ctx: Context): Promise<number> {
  const settings = ctx.settings();
  const { serveStdio } = await import("../../mcp/stdio.js");
  let version = "0.0.0";
  try {
    version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    // Only for the handshake.
  }
  await serveStdio({
    server: settings.server,
    token: settings.token,
    session: settings.envSession,
    cwd: ctx.cwd,
    version,
    makeClient: (server, token) => createBrigadeClient({ baseUrl: server, token, timeoutMs: settings.timeoutMs, userAgent: "brigade-mcp" }),
    localRepo: async (cwd) => {
      const [worktree, remote, branch] = await Promise.all([worktreeRoot(cwd), remoteUrl(cwd), currentBranch(cwd)]);
      return { remote, branch, worktree };
    },
    worktreeOf,
    repoRelative,
  });
  return 0;
}
