/**
 * How a refused caller talks a claim over with its holder, in the words each client speaks: the
 * MCP tool call with its literal arguments, or the `brigade msg` command ready to run. A refusal,
 * a blocked check and a handoff request carry the thread (`ClaimThread`): its id when the caller
 * and the holder already talk about the claim, else the `about` and `to` that open one.
 */
export interface ClaimThreadOffer {
  id: string | null;
  about: { type: "claim"; id: string };
  to: { type: "session"; id: string };
}

/** The MCP call: `reply` in the thread, or `send_message` opening it (a thread's id is its first message's). */
export function mcpTalk(t: ClaimThreadOffer): string {
  return t.id
    ? `continue your thread with them: reply with messageId "${t.id}"`
    : `open a thread with them: send_message with to "session", toId "${t.to.id}", about ${JSON.stringify(t.about)}`;
}

/** A word for the shell: as it is when plain, else single-quoted. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command: `brigade msg reply` in the thread, or `brigade msg send` opening it, the body left to write. */
export function cliTalk(t: ClaimThreadOffer, subject: string): string {
  return t.id
    ? `brigade msg reply ${t.id} --body "…"`
    : `brigade msg send --to session:${t.to.id} --about claim:${t.about.id} --subject ${shellWord(subject)} --body "…"`;
}

/** Both, for a reader that may use either (the Claude Code hooks' deny reason). */
export function talkOffer(t: ClaimThreadOffer, subject: string): string {
  return t.id
    ? `To talk it over, continue your thread with the holder: MCP reply with messageId "${t.id}", or \`${cliTalk(t, subject)}\`.`
    : `To talk it over, open a thread with the holder: MCP send_message with to "session", toId "${t.to.id}", about ${JSON.stringify(t.about)}; or \`${cliTalk(t, subject)}\`.`;
}

/** The subject a new thread about a claim opens with. */
export const claimSubject = (pattern: string) => `Your claim on ${pattern}`;
