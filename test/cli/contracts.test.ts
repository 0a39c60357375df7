import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import t from "tap";
import { client } from "../helpers/app.js";
import { call } from "../mcp/helpers.js";
import { brigade, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

const spec = (paths: string[]) =>
  `${["openapi: 3.0.3", "info: { title: Orders, version: '1' }", "paths:", ...paths.flatMap((p) => [`  ${p}:`, "    get:", "      responses:", "        '200': { description: ok }"])].join("\n")}\n`;

t.test("contracts from the CLI and the MCP tools", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const root = client(server.app, server.rootToken);
  const team = await root.post("/v1/teams", { name: `orders-${process.pid}` });
  await root.put(`/v1/teams/${team.body.id}/members/${alice.id}`);
  const created = await alice.api.post("/v1/contracts", { name: "orders-api", kind: "openapi", providerTeamId: team.body.id });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const consumer = await alice.api.post("/v1/contracts/orders-api/consumers", { kind: "user", userId: bob.id });
  t.ok(consumer.status === 201 || consumer.status === 200, JSON.stringify(consumer.body));

  const home = tempDir(t);
  const repo = gitRepo(join(home, "shop"), "git@github.com:acme/shop.git");
  writeFileSync(join(repo, "v1.yaml"), spec(["/orders", "/customers"]));
  writeFileSync(join(repo, "v2.yaml"), spec(["/orders"]));
  // The server runs under tsx here: its contract worker compiles its parsers on first use, which
  // on a loaded CI machine can outlast the CLI's default 10 s wait.
  const env = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: alice.token, BRIGADE_TIMEOUT_MS: "60000" });
  const cli = (...args: string[]) => brigade(args, { cwd: repo, env });

  await t.test(
    "when a provider publishes, checks and proposes from the CLI, then breaking changes fail with the changes listed",
    async (t) => {
      const first = await cli("contracts", "publish", "orders-api", "v1.yaml", "--label", "1.0.0");
      t.equal(first.code, 0, first.stderr);
      t.match(first.stdout, /^Published orders-api 1\.0\.0/);

      const check = await cli("contracts", "check", "orders-api", "v2.yaml");
      t.equal(check.code, 1, "a breaking change fails the check");
      t.match(check.stdout, /^orders-api: incompatible against 1\.0\.0 \(backward policy\): 1 breaking/);

      const refused = await cli("contracts", "publish", "orders-api", "v2.yaml", "--label", "2.0.0", "--json");
      t.equal(refused.code, 1);
      const out = JSON.parse(refused.stdout);
      t.equal(out.error.code, "contracts.incompatible");
      t.ok(out.breaking.length >= 1);
      t.match(refused.stderr, /not published: \d+ incompatible change/);

      const proposed = await cli("contracts", "propose", "orders-api", "v2.yaml", "--label", "2.0.0", "--reason", "drop customers");
      t.equal(proposed.code, 0, proposed.stderr);
      t.match(proposed.stdout, /1 consumer alerted/);

      const list = await cli("contracts", "list", "--json");
      t.equal(JSON.parse(list.stdout).items[0].name, "orders-api");
    },
  );

  await t.test(
    "when an agent publishes over MCP, then an incompatible version is refused with what would break, and a proposal reaches the consumers",
    async (t) => {
      const mcp = new Client({ name: "test", version: "1" });
      await mcp.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${alice.token}` } },
        }),
      );
      t.teardown(() => mcp.close());
      const refused = await call(mcp, "publish_contract", { name: "orders-api", label: "2.0.0", content: spec(["/orders"]) });
      t.ok(refused.isError);
      t.match(refused.text, /^Not published: \d+ incompatible change\(s\) under the backward policy would break consumers/);
      t.match(refused.text, /propose_contract_change/);
      const proposed = await call(mcp, "propose_contract_change", {
        name: "orders-api",
        label: "2.1.0",
        content: spec(["/orders", "/invoices"]),
        description: "invoices instead",
      });
      t.notOk(proposed.isError, proposed.text);
      t.match(proposed.text, /consumer\(s\) alerted/);
      const fine = await call(mcp, "publish_contract", {
        name: "orders-api",
        label: "1.1.0",
        content: spec(["/orders", "/customers", "/invoices"]),
      });
      t.notOk(fine.isError, fine.text);
      t.match(fine.text, /^Published orders-api 1\.1\.0 after 1\.0\.0/);
    },
  );
});
