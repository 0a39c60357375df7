/** `brigade status` (where you stand) and `brigade claims` (what is claimed, by whom). */
import { ok, type Schemas } from "../../sdk/client.js";
import { describeAlert } from "../../sdk/describe.js";
import type { Context } from "../context.js";
import { isSessionGone, sessionGoneLine } from "../errors.js";
import { until } from "../output.js";

const claimLine = (c: Schemas["Claim"] & { holderName?: string }, named = false) =>
  `${c.id}  ${c.mode.padEnd(9)} ${c.patterns.join(" ")}  ${named && c.holderName ? `${c.holderName}'s agent ` : ""}${c.holder.agent.name}  until ${until(c.expiresAt)}${c.reason ? `  "${c.reason}"` : ""}`;

export async function status(ctx: Context) {
  const settings = ctx.settings();
  const client = ctx.client("user");
  const me = await ok(client.api.GET("/v1/me"));
  const ref = await ctx.session();
  let session: Schemas["Session"] | null = null;
  let claims: Schemas["Claim"][] = [];
  let sessionNote: string | null = null;
  if (ref) {
    try {
      const sc = ctx.client("session", ref);
      session = await ok(sc.api.GET("/v1/sessions/{id}", { params: { path: { id: ref.id } } }));
      if (session.status !== "active") sessionNote = sessionGoneLine(ref.id);
      else claims = (await ok(sc.api.GET("/v1/claims", { params: { query: { session: ref.id, active: "true" } } }))).items;
    } catch (err) {
      if (!isSessionGone(err, Boolean(ref.token))) throw err;
      sessionNote = sessionGoneLine(ref.id);
    }
  }
  const alerts = (
    await ok(
      client.api.GET("/v1/alerts", {
        params: { query: { unacked: "true", limit: 20, ...(session?.status === "active" ? { session: session.id } : {}) } },
      }),
    )
  ).items;
  const data = { server: settings.server, me, session, sessionNote, claims, alerts };
  ctx.out.result(data, () =>
    [
      `Server: ${settings.server}`,
      `You: ${me.user.displayName ?? me.user.name} (${me.user.role} in ${me.org.slug}, ${me.via} token)`,
      session && !sessionNote
        ? `Session: ${session.id} — ${session.agent.name} on ${session.repo}${session.branch ? ` (${session.branch})` : ""}, lease until ${until(session.expiresAt)}`
        : sessionNote
          ? `Session: ${sessionNote}; \`brigade session start\` opens a new one`
          : "Session: none here (brigade session start, or brigade run -- <agent>)",
      ...(claims.length ? ["Its claims:", ...claims.map((c) => `  ${claimLine(c)}`)] : []),
      alerts.length ? `Unacknowledged alerts (${alerts.length}):` : "No unacknowledged alerts.",
      ...alerts.map((a) => `  [${a.id}] ${describeAlert(a)}`),
    ].join("\n"),
  );
}

export async function claims(ctx: Context, options: { repo?: string; mine?: boolean; all?: boolean }) {
  const client = ctx.client("user");
  let repo: string | undefined = options.repo;
  if (!repo && !options.all) repo = await ctx.repo();
  const me = options.mine ? await ok(client.api.GET("/v1/me")) : undefined;
  const page = await ok(
    client.api.GET("/v1/claims", {
      params: { query: { active: "true", limit: 200, ...(repo ? { repo } : {}), ...(me ? { user: me.user.id } : {}) } },
    }),
  );
  ctx.out.result(page, () => (page.items.length === 0 ? "No live claims." : page.items.map((c) => claimLine(c, true)).join("\n")));
}
