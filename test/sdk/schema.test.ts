import { readFile } from "node:fs/promises";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import t from "tap";

t.test("when openapi.yaml changes, then src/sdk/schema.d.ts is regenerated with it", async (t) => {
  const generated = COMMENT_HEADER + astToString(await openapiTS(new URL("../../openapi.yaml", import.meta.url)));
  const committed = await readFile(new URL("../../src/sdk/schema.d.ts", import.meta.url), "utf8");
  t.ok(generated === committed, "the SDK's types match openapi.yaml (run `npm run sdk`, or `npm run openapi`, which runs it)");
});
