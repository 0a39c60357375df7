/** `brigade msg`: a developer and another developer's agent talk through the CLI. */
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { brigade, CLI, exec, startServer, TSX, tempDir, twoUsers, userEnv } from "./helpers.js";

t.test("brigade msg", async (t) => {
  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const home = tempDir(t);
  const bobAgent = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const asAlice = userEnv(home, { BRIGADE_URL: server.url, BRIGADE_TOKEN: alice.token });
  // Bob's agent runs inside its session, as under `brigade run`: it reads with its own receipts.
  const asBobAgent = userEnv(home, {
    BRIGADE_URL: server.url,
    BRIGADE_TOKEN: bob.token,
    BRIGADE_SESSION_ID: bobAgent.id,
    BRIGADE_SESSION_TOKEN: bobAgent.token,
  });
  const run = (args: string[], env: Record<string, string>, input?: string) =>
    brigade(["msg", ...args], { cwd: home, env, ...(input !== undefined ? { input } : {}) });

  let firstId = "";
  await t.test("when a developer messages a user by name, then the agent's inbox lists it and the thread shows it", async (t) => {
    const sent = await run(
      ["send", "--to", `user:${bob.name}`, "--subject", "Deploy freeze", "--body", "No deploys until **Monday**."],
      asAlice,
    );
    t.equal(sent.code, 0, sent.stderr);
    const id = /^Sent message ([0-9a-f-]{36}) to user ([0-9a-f-]{36});/.exec(sent.stdout);
    t.ok(id, sent.stdout);
    firstId = id![1]!;
    t.equal(id![2], bob.id, "the name was looked up");

    const inbox = await run(["inbox"], asBobAgent);
    t.equal(inbox.code, 0, inbox.stderr);
    t.match(inbox.stdout, new RegExp(`^${firstId}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  ${alice.name}: Deploy freeze  \\[unread\\]$`, "m"));
    t.match(inbox.stdout, /answer with: brigade msg reply <id>/);
    const json = JSON.parse((await run(["inbox", "--json"], asBobAgent)).stdout);
    t.same(
      json.items.map((m: any) => m.id),
      [firstId],
    );

    const thread = await run(["thread", firstId], asBobAgent);
    t.equal(thread.code, 0, thread.stderr);
    t.match(thread.stdout, /^Thread [0-9a-f-]{36}: Deploy freeze\n/);
    t.match(thread.stdout, "No deploys until **Monday**.");
    t.match(thread.stdout, `Answer with: brigade msg reply ${firstId} --body "…"`);
    t.equal((await run(["inbox"], asBobAgent)).stdout, "No unread messages.\n", "reading the thread marked it read");
  });

  await t.test("when the agent replies with its body piped in, then the sender's inbox has the reply in the thread", async (t) => {
    const replied = await run(["reply", firstId], asBobAgent, "Understood: holding the release branch.\n");
    t.equal(replied.code, 0, replied.stderr);
    t.match(replied.stdout, new RegExp(`^Replied \\(message [0-9a-f-]{36}\\) in thread ${firstId}: "Deploy freeze"`));
    const inbox = JSON.parse((await run(["inbox", "--json"], asAlice)).stdout);
    t.equal(inbox.items.length, 1);
    t.match(inbox.items[0], { threadId: firstId, parentId: firstId, body: "Understood: holding the release branch.\n" });
    t.match((await run(["inbox"], asAlice)).stdout, `${bob.name}'s agent: Re: Deploy freeze  [unread]`);
  });

  await t.test("when a directive is acknowledged twice, then the second time says so and changes nothing", async (t) => {
    const sent = await run(
      ["send", "--to", `session:${bobAgent.id}`, "--subject", "Rotate the keys", "--ack", "--json"],
      asAlice,
      "Today.",
    );
    t.equal(sent.code, 0, sent.stderr);
    const directive = JSON.parse(sent.stdout);
    t.equal(directive.ackRequired, true);
    t.match((await run(["inbox", "--needs-ack"], asBobAgent)).stdout, `${directive.id}`);
    const first = await run(["ack", directive.id], asBobAgent);
    t.equal(first.code, 0, first.stderr);
    t.equal(first.stdout, `Acknowledged message ${directive.id} ("Rotate the keys"); its sender is told\n`);
    const again = await run(["ack", directive.id, "--json"], asBobAgent);
    t.equal(again.code, 0, again.stderr);
    const firstAt = JSON.parse((await run(["ack", directive.id, "--json"], asBobAgent)).stdout).acked[0].acknowledgedAt;
    t.equal(JSON.parse(again.stdout).acked[0].acknowledgedAt, firstAt, "the first acknowledgement is kept");
    t.match((await run(["ack", directive.id], asBobAgent)).stdout, /was already acknowledged at /);
    t.equal((await run(["inbox", "--needs-ack"], asBobAgent)).stdout, "No directives waiting for your acknowledgement.\n");
  });

  await t.test("when messages are searched, then matching words find them", async (t) => {
    const found = await run(["search", "deploys", "monday", "--json"], asBobAgent);
    t.equal(found.code, 0, found.stderr);
    t.same(
      JSON.parse(found.stdout).items.map((m: any) => m.id),
      [firstId],
    );
    t.equal((await run(["search", "kubernetes"], asBobAgent)).stdout, 'No messages match "kubernetes".\n');
  });

  await t.test("when the input is wrong or the message unknown, then it fails in one line with the right exit code", async (t) => {
    const unknown = "01900000-0000-7000-8000-000000000000";
    const ack = await run(["ack", unknown], asBobAgent);
    t.equal(ack.code, 1);
    t.match(ack.stderr, `No message ${unknown} you may read in this organisation`);
    const badTo = await run(["send", "--to", "everyone", "--subject", "x", "--body", "y"], asAlice);
    t.equal(badTo.code, 2);
    t.match(badTo.stderr, /--to is session:<id>, user:<id\|name\|email>, team:<id\|name> or organisation/);
    const noBody = await run(["send", "--to", `user:${bob.id}`, "--subject", "x"], asAlice, "");
    t.equal(noBody.code, 2);
    t.match(noBody.stderr, /--body <text>, or pipe it in/);
  });

  // A refused claim and a handoff request print the command that talks it over with the holder,
  // ready to run: opening the thread about the claim, or replying in it once it exists.
  await t.test(
    "when an agent's claim is refused, then the printed msg command reaches the holder, and then continues the thread",
    async (t) => {
      const aliceAgent = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
      const asAliceAgent = client(server.app, aliceAgent.token);
      const held = await asAliceAgent.post("/v1/claims", { patterns: ["src/auth/**"] });
      t.equal(held.status, 201);
      const claimId = held.body.id as string;
      /** The offered command, run by a shell as a person would paste it, with a body written in. */
      const runOffered = (line: string, body: string) =>
        exec(
          "sh",
          ["-c", `brigade() { "$NODE" --import "$TSX_LOADER" "$BRIGADE_CLI" "$@"; }; ${line.replace('--body "…"', `--body "${body}"`)}`],
          {
            cwd: home,
            env: { ...asBobAgent, NODE: process.execPath, TSX_LOADER: TSX, BRIGADE_CLI: CLI },
          },
        );

      const refused = await brigade(["claim", "src/auth/login.ts"], { cwd: home, env: asBobAgent });
      t.equal(refused.code, 1);
      const open = `brigade msg send --to session:${aliceAgent.id} --about claim:${claimId} --subject 'Your claim on src/auth/**' --body "…"`;
      t.match(refused.stderr, `talk it over with ${alice.name}: ${open}`, "who holds it, and the command to open the thread");
      const sent = await runOffered(open, "Can I have login.ts for ten minutes?");
      t.equal(sent.code, 0, sent.stderr);
      const threadId = /^Sent message ([0-9a-f-]{36})/.exec(sent.stdout)![1]!;
      const inbox = await asAliceAgent.get("/v1/messages");
      t.match(
        inbox.body.items,
        [{ id: threadId, subject: "Your claim on src/auth/**", about: { type: "claim", id: claimId } }],
        "the holder's agent has it",
      );

      const again = await brigade(["claim", "src/auth/login.ts"], { cwd: home, env: asBobAgent });
      t.equal(again.code, 1);
      const reply = `brigade msg reply ${threadId} --body "…"`;
      t.match(again.stderr, `talk it over with ${alice.name}: ${reply}`);
      t.notMatch(again.stderr, "msg send");
      const replied = await runOffered(reply, "Any news?");
      t.equal(replied.code, 0, replied.stderr);
      t.match(replied.stdout, `in thread ${threadId}`);

      const handoff = await brigade(["handoff", claimId, "--reason", "the login redirect"], { cwd: home, env: asBobAgent });
      t.equal(handoff.code, 0, handoff.stderr);
      t.match(handoff.stdout, `Talk it over with them: ${reply}`);
    },
  );

  await t.test("when --about is malformed, then msg send says how it is written", async (t) => {
    const bad = await run(["send", "--to", `user:${bob.id}`, "--subject", "x", "--body", "y", "--about", "claim"], asAlice);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--about is <type>:<id>/);
    const path = await run(
      ["send", "--to", `user:${bob.id}`, "--subject", "x", "--body", "y", "--about", "path:github.com/acme/api#src/a.ts", "--json"],
      asAlice,
    );
    t.equal(path.code, 0, path.stderr);
    t.same(JSON.parse(path.stdout).about, { type: "path", id: "github.com/acme/api", path: "src/a.ts" });
  });
});
