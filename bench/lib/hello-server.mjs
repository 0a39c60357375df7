/**
 * The ceiling: a bare fastify hello-world, the most this framework, node and this machine
 * can serve under the bench's load settings. Run as a child process by hello-world.ts.
 * No logger, no hooks, no validation: anything Brigade adds shows up as the ratio.
 *
 * Plain JavaScript, run on plain node like Brigade's compiled dist/server.js: under tsx the
 * ceiling would pay a loader Brigade no longer pays.
 */
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));

await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });

const close = () => void app.close().then(() => process.exit(0));
process.once("SIGTERM", close);
process.once("SIGINT", close);
