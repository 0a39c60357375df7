import { api } from "../api/client.js";
import type { RepoLinkTemplate } from "../api/types.js";
import type { RepoUrlTemplates } from "../lib/links.js";
import { Store, useStore } from "./store.js";

/**
 * The organisation's code-host link templates (GET /v1/link-templates), read at sign-in and again
 * when one is set or removed; a repository without one has links derived from its key.
 */
export const linkTemplates = new Store<RepoUrlTemplates>({});

export async function loadLinkTemplates(): Promise<void> {
  try {
    const { items } = await api<{ items: RepoLinkTemplate[] }>("/v1/link-templates");
    linkTemplates.set(Object.fromEntries(items.map((t) => [t.repo, t.template])));
  } catch {
    // Derived links serve meanwhile; the next change or reconnect reads them again.
  }
}

export const useLinkTemplates = (): RepoUrlTemplates => useStore(linkTemplates);
