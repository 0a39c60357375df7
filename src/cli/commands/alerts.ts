import { ok } from "../../sdk/client.js";
import { describeAlert } from "../../sdk/describe.js";
import type { Context } from "../context.js";
import { CliError, EXIT_FAILED } from "../errors.js";

export async function alerts(ctx: Context, options: { ack?: string[]; all?: boolean; type?: string }) {
  const session = await ctx.session();
  const client = ctx.client("session", session);
  if (options.ack?.length) {
    const acked = [];
    for (const id of options.ack) acked.push(await ok(client.api.POST("/v1/alerts/{id}/ack", { params: { path: { id } }, body: {} })));
    ctx.out.result({ acked }, acked.map((a) => `Acknowledged ${a.id}: ${describeAlert(a)}`).join("\n"));
    return;
  }
  const page = await ok(
    client.api.GET("/v1/alerts", {
      params: {
        query: {
          ...(options.all ? {} : { unacked: "true" }),
          ...(session ? { session: session.id } : {}),
          ...(options.type ? { type: options.type } : {}),
          limit: 100,
        },
      },
    }),
  );
  ctx.out.result(page, () => {
    if (page.items.length === 0) return options.all ? "No alerts." : "No unacknowledged alerts.";
    const lines = page.items.map(
      (a) => `${a.id}  ${a.createdAt.slice(0, 19).replace("T", " ")}  ${a.ackedAt ? "(acked) " : ""}${describeAlert(a)}`,
    );
    if (!options.all) lines.push("Acknowledge with: brigade alerts --ack <id…>");
    return lines.join("\n");
  });
}

/** Live alerts over /v1/stream, resuming after drops; ends on Ctrl-C. */
export async function watch(ctx: Context, options: { after?: string }) {
  const session = await ctx.session();
  const client = ctx.client("session", session);
  const { webSocketAlerts, StreamError } = await import("../../sdk/subscribe.js");
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let announced = false;
  try {
    for await (const alert of webSocketAlerts({
      url: client.baseUrl,
      token: client.token!,
      signal: controller.signal,
      ...(session ? { session: session.id } : {}),
      ...(options.after ? { after: options.after } : {}),
      onStatus: (status) => {
        if (status.state === "live" && !announced) {
          announced = true;
          ctx.out.note(`brigade: watching alerts${session ? ` of session ${session.id}` : ""} (Ctrl-C to stop)`);
        } else if (status.state === "disconnected") {
          ctx.out.note(
            `brigade: disconnected (${status.code}${status.reason ? ` ${status.reason}` : ""}); reconnecting in ${Math.round(status.retryInMs)} ms`,
          );
        }
      },
    })) {
      if (ctx.out.json) process.stdout.write(`${JSON.stringify(alert)}\n`);
      else process.stdout.write(`${alert.createdAt.slice(11, 19)}  ${describeAlert(alert)}  [${alert.id}]\n`);
    }
  } catch (err) {
    if (err instanceof StreamError) throw new CliError(`${err.message} (${err.code})`, EXIT_FAILED, err.code);
    throw err;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
