import type { Message } from "../api/types.js";

export interface ThreadSummary {
  id: string;
  subject: string;
  messages: Message[];
  last: Message;
  unread: number;
  directive: boolean;
}

/** Threads from the newest messages; unread counts what others wrote that `me` has not read. */
export function summarise(messages: Message[], me: string): ThreadSummary[] {
  const byThread = new Map<string, Message[]>();
  const seen = new Set<string>();
  for (const m of messages) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    const list = byThread.get(m.threadId);
    if (list) list.push(m);
    else byThread.set(m.threadId, [m]);
  }
  return [...byThread.entries()]
    .map(([id, list]) => {
      const sorted = list.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const last = sorted[sorted.length - 1]!;
      return {
        id,
        subject: sorted[0]!.subject,
        messages: sorted,
        last,
        unread: sorted.filter((m) => m.readAt === null && m.from.userId !== me).length,
        directive: sorted.some((m) => m.ackRequired),
      };
    })
    .sort((a, b) => b.last.createdAt.localeCompare(a.last.createdAt));
}
