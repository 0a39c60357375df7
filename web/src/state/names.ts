import { useMemo } from "preact/hooks";
import type { Session } from "../api/types.js";
import { shortId } from "../lib/format.js";
import type { Names } from "../lib/describe.js";
import { teamName, userName, useApp, type Directory } from "./app.js";
import { useStore } from "./store.js";

/**
 * Sessions ever seen by this page (live ones, and ended ones we saw start), so events about a
 * session that has since ended still name its developer and agent.
 */
const knownSessions = new Map<string, { userId: string; agent: string }>();

export function rememberSessions(sessions: Iterable<Session>) {
  for (const s of sessions) knownSessions.set(s.id, { userId: s.userId, agent: s.agent.name });
}

export function makeNames(directory: Directory): Names {
  return {
    user: (id) => userName(directory, id),
    team: (id) => teamName(directory, id),
    session: (id) => {
      if (!id) return "a session";
      const known = knownSessions.get(id);
      return known ? `${userName(directory, known.userId)}/${known.agent}` : `session ${shortId(id)}`;
    },
    // Claims are told apart by their patterns on the page; in a sentence they are just "a claim".
    claim: () => "a claim",
  };
}

export function useNames(): Names {
  const app = useApp();
  const directory = useStore(app.directory);
  // Sessions change the names too (a new session's agent).
  const sessions = useStore(app.sessions);
  return useMemo(() => {
    rememberSessions(sessions.byId.values());
    return makeNames(directory);
  }, [directory, sessions]);
}
