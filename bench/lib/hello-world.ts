import { freePort, ServerProcess } from "./child.js";

export interface HelloWorldServer {
  url: string;
  process: ServerProcess;
}

/** Starts the ceiling server (hello-server.mjs, plain node) the same way Brigade is started. */
export async function startHelloWorld(): Promise<HelloWorldServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await ServerProcess.start({
    name: "hello-world",
    entry: "bench/lib/hello-server.mjs",
    readyUrl: `${url}/`,
    env: { PORT: String(port) },
  });
  return { url, process: server };
}
