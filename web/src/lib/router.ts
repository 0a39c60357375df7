import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes (`#/claims?repo=github.com/acme/api`): the server serves one page at `/`, and
 * every view is addressable, bookmarkable and survives a reload.
 */
export interface Route {
  page: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = text.split("?", 2);
  return { page: path.split("/")[0] || "now", params: new URLSearchParams(query) };
}

export function href(page: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const text = query.toString();
  return `#/${page}${text ? `?${text}` : ""}`;
}

export function navigate(page: string, params: Record<string, string | undefined> = {}, replace = false) {
  const next = href(page, params);
  if (replace) history.replaceState(null, "", next);
  else history.pushState(null, "", next);
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", onChange);
    window.addEventListener("popstate", onChange);
    return () => {
      window.removeEventListener("hashchange", onChange);
      window.removeEventListener("popstate", onChange);
    };
  }, []);
  return route;
}
