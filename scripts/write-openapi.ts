/** `npm run openapi`: regenerates openapi.yaml from the routes' zod schemas. */
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";

const { app } = await buildApp(loadConfig({ BRIGADE_DATA_DIR: "memory://", LOG_LEVEL: "silent" }));
try {
  const header = "# Generated from the routes' schemas by `npm run openapi`; test/openapi.test.ts keeps the two in step.\n";
  await writeFile(new URL("../openapi.yaml", import.meta.url), header + stringify(app.swagger(), { lineWidth: 0 }));
  console.log("openapi.yaml written");
} finally {
  await app.close();
}
