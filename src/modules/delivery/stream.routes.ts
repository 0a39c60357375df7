import websocket from "@fastify/websocket";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { decodeJwt } from "jose";
import { z } from "zod";
import type { Bus } from "../../infra/bus.js";
import type { Db } from "../../infra/db.js";
import { AppError, problemResponses } from "../../http/problem.js";
import type { Authenticate } from "../identity/auth.js";
import { quotaExceeded } from "../limits/limits.errors.js";
import { type LimitSettings, type Limits, tokenKeyOf } from "../limits/limits.usecases.js";
import { StreamHub, type StreamSocket } from "./stream.hub.js";
import { SocketRegistry, type SocketRegistryOptions } from "./stream.sockets.js";
import { MAX_CLIENT_FRAME_BYTES, streamQuery } from "./stream.schemas.js";
import type { Subjects } from "../../events/subjects.js";

export interface StreamDeps {
  db: Db;
  bus: Bus;
  subjects: Subjects;
  authenticate: Authenticate;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  relayBatchSize: number;
  limits: Pick<Limits, "forOrg">;
  /** How the replicas share their sockets' count (from STREAM_SOCKETS_HEARTBEAT_MS). */
  socketRegistry: SocketRegistryOptions;
}

const description = `WebSocket (RFC 6455). Authenticate with the Authorization header or, where headers cannot be set (browsers), the access_token query parameter; a missing or invalid credential is refused before the upgrade with 401 problem+json. A plain GET without an upgrade is 426.

Messages are JSON text frames. Client: {"type":"subscribe","id":"a","topic":"alerts"}, {"type":"subscribe","id":"e","topic":"events","filter":{"repo":"…","team":"…","user":"…","type":"claim."},"after":"<eventId>"}, {"type":"unsubscribe","id":"e"}, {"type":"ping"}. Server: welcome, subscribed, event, alert, live (replay done), unsubscribed, narrowed {id,reason,role?,teamId?} (a demotion or a team left shrank what it carries), pong, error {code,message,id?,errors?} (stream.access_revoked: a subscription that needed a lead's right ended with the right).

Close codes: 1001 server shutting down; 1009 client frame too large; 1011 internal error; 4008 slow consumer (resume with after); 4029 the token holds as many sockets as it may (socketsPerToken); 4401 credential revoked or expired while connected. See docs/architecture.md, "Live stream".`;

/** A bearer credential from the header, or from `access_token` for clients that cannot set headers. */
function credentialOf(request: FastifyRequest): string | undefined {
  if (request.headers.authorization) return request.headers.authorization;
  const token = (request.query as { access_token?: unknown } | undefined)?.access_token;
  return typeof token === "string" && token ? `Bearer ${token}` : undefined;
}

function tokenExpiry(authorization: string | undefined): number | undefined {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (!token) return undefined;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined; // Not a JWT (the bootstrap token): it does not expire.
  }
}

export const streamRoutes: FastifyPluginAsyncZod<{ deps: StreamDeps }> = async (app, { deps }) => {
  const log = app.log.child({ component: "stream" });
  const hub = new StreamHub({ ...deps, log });
  const sockets = new SocketRegistry(deps.db, log, deps.socketRegistry);
  /** The quotas read before the upgrade, for the socket it opens. */
  const quotasOf = new WeakMap<FastifyRequest, LimitSettings>();
  /** The socket's reservation across replicas, made before the upgrade; released if none follows. */
  const reservationOf = new WeakMap<FastifyRequest, string>();
  await app.register(websocket, {
    options: { maxPayload: MAX_CLIENT_FRAME_BYTES },
    // Upgrades stop first: Node then answers a late one as a plain request (fastify's 503 with
    // Connection: close) and closes its connection, where a refused upgrade would leave the raw
    // socket open and hold the server's close. Open sockets are told why (1001) and given a moment.
    preClose: async () => {
      app.server.removeAllListeners("upgrade");
      await hub.close();
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
      await sockets.close();
    },
  });

  app.route({
    method: "GET",
    url: "/v1/stream",
    config: { public: true },
    schema: {
      tags: ["events"],
      summary: "Live events and alerts over WebSocket, with resume from an event id",
      description,
      querystring: streamQuery,
      response: {
        101: z.null().describe("Switching Protocols: the stream is open; messages as described above."),
        ...problemResponses(400, 401, 426, 429),
      },
    },
    // The auth hook skips this route (public) so that the query parameter can carry the token.
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        request.principal = await deps.authenticate(credentialOf(request));
      } catch (err) {
        if ((err as { status?: number }).status === 401) reply.header("www-authenticate", 'Bearer realm="brigade"');
        throw err;
      }
      const quotas = await deps.limits.forOrg(request.principal.orgId);
      quotasOf.set(request, quotas);
      const { socketsPerToken } = quotas;
      if (socketsPerToken > 0) {
        const reservation = await sockets.reserve(request.principal.orgId, tokenKeyOf(request.principal), socketsPerToken);
        if (!reservation)
          throw quotaExceeded("stream.too_many_sockets", "socketsPerToken", socketsPerToken, "This token holds as many sockets as it may");
        reservationOf.set(request, reservation);
      }
    },
    handler: async (request) => {
      const reservation = reservationOf.get(request);
      if (reservation) sockets.release(reservation);
      throw new AppError(426, "stream.upgrade_required", "GET /v1/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket.");
    },
    // Synchronous: the client's first frames may follow the upgrade at once.
    wsHandler: (socket, request) => {
      const query = request.query as { after?: string };
      const quotas = quotasOf.get(request);
      const reservation = reservationOf.get(request);
      if (reservation) sockets.opened(reservation);
      const { orgId } = request.principal;
      const tokenKey = tokenKeyOf(request.principal);
      hub.accept(socket as unknown as StreamSocket, request.principal, {
        defaultAfter: query.after,
        expiresAt: tokenExpiry(credentialOf(request)),
        quotas,
        onGone: reservation ? () => sockets.release(reservation) : undefined,
        sharedSubscriptions:
          reservation && quotas
            ? {
                take: () => sockets.takeSubscription(reservation, orgId, tokenKey, quotas.subscriptionsPerToken),
                give: () => sockets.giveSubscription(reservation),
              }
            : undefined,
      });
    },
  });
};
