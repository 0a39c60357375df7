import { chmod, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { http, spawnServer } from "./helpers/server-process.js";

t.test("when started with no DATABASE_URL or NATS_URL, then the embedded default serves the API", async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), "brigade-embedded-"));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));

  // The embedded database migrates from empty under tsx here: on a CI machine running other
  // suites beside it that has taken over a minute. (How fast a start is lives in `bench -- start`.)
  const server = await spawnServer(t, { BRIGADE_DATA_DIR: dataDir }, 150_000);
  const banner = server.output();
  t.match(banner, /embedded PGlite in /);
  t.match(banner, /in-process/);
  const token = /shown once, keep it safe\):\s+(\S+)/.exec(banner)?.[1];
  t.ok(token, "the first start prints an admin token once");

  t.same((await http(`${server.url}/healthz`, undefined)).body, { status: "ok" });
  t.match((await http(`${server.url}/readyz`, undefined)).body, { status: "ready", database: { kind: "pglite" }, bus: { kind: "memory" } });

  const started = await http(`${server.url}/v1/sessions`, token, "POST", {
    agent: { name: "claude-1", kind: "claude-code" },
    repo: "git@github.com:acme/api.git",
  });
  t.equal(started.status, 201);
  const id = started.body.session.id;
  const beat = await http(`${server.url}/v1/sessions/${id}/heartbeat`, started.body.token, "POST", { activity: "working" });
  t.equal(beat.status, 200);
  t.equal(beat.body.activity, "working");
  const ended = await http(`${server.url}/v1/sessions/${id}`, token, "DELETE");
  t.equal(ended.body.status, "ended");
  t.equal(await server.stop(), 0, "a graceful stop exits 0");
  // The folder holds the signing keys' private parts: owner-only.
  t.equal((await stat(dataDir)).mode & 0o777, 0o700, "the data folder is 0700");
  const entries = await readdir(dataDir, { withFileTypes: true, recursive: true });
  const open = [];
  for (const e of entries.filter((e) => e.isFile())) {
    if (((await stat(join(e.parentPath, e.name))).mode & 0o077) !== 0) open.push(e.name);
  }
  t.same(open, [], "its files are 0600");

  const again = await spawnServer(t, { BRIGADE_DATA_DIR: dataDir, LOG_LEVEL: "info" });
  t.notMatch(again.output(), /shown once/, "the second start prints no new token");
  const me = await http(`${again.url}/v1/me`, token);
  t.equal(me.status, 200, "the first token still works after a restart");
  const session = await http(`${again.url}/v1/sessions/${id}`, token);
  t.equal(session.body.status, "ended", "data survives the restart");
  const agentAgain = await http(`${again.url}/v1/sessions`, token, "POST", {
    agent: { name: "claude-1", kind: "claude-code" },
    repo: "github.com/acme/api",
  });
  t.equal(agentAgain.body.session.agent.id, started.body.session.agent.id, "the agent's identity is stable across restarts");

  // A send's statements check its audience themselves: on PGlite as on PostgreSQL.
  const note = await http(`${again.url}/v1/messages`, token, "POST", {
    to: { type: "user", id: me.body.user.id },
    subject: "Note",
    body: "To myself.",
  });
  t.equal(note.status, 201, JSON.stringify(note.body));
  t.equal(note.body.from.userId, me.body.user.id);
  const nobody = await http(`${again.url}/v1/messages`, token, "POST", {
    to: { type: "user", id: "0190f0f0-0000-7000-8000-000000000000" },
    subject: "Lost",
    body: "To nobody.",
  });
  t.equal(nobody.body.code, "messages.recipient_not_found");
  const sentBox = await http(`${again.url}/v1/messages?box=sent`, token);
  t.same(
    sentBox.body.items.map((m: { subject: string }) => m.subject),
    ["Note"],
    "the refused message was not written",
  );

  const sessionToken: string = agentAgain.body.token;
  await http(`${again.url}/v1/sessions/${agentAgain.body.session.id}/heartbeat?access_token=query-secret-123`, sessionToken, "POST", {});
  await http(`${again.url}/v1/me?access%5Ftoken=query-secret-456&%61ccess_token=query-secret-789`, "forged.token.value", "GET");
  await again.stop();
  const logs = again.output();
  t.match(logs, /"msg":"request completed"/, "requests are logged at info");
  t.notOk(logs.includes(sessionToken), "bearer tokens never reach the logs");
  t.notOk(logs.includes(token!), "nor the admin token");
  t.notOk(logs.includes("query-secret-123"), "credentials in query strings are redacted");
  t.notOk(/query-secret-(456|789)/.test(logs), "however their name is percent-encoded");

  await chmod(dataDir, 0o755);
  const refused = await spawnServer(t, { BRIGADE_DATA_DIR: dataDir }).then(
    () => "",
    (err: Error) => err.message,
  );
  t.match(
    refused,
    /failed to start: the data folder .* is accessible to other users \(mode 755\).*chmod 700/,
    "a folder others can read is refused at start",
  );
});
