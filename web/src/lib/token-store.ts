/**
 * The pasted token lives in sessionStorage: it survives reloads of this tab, is not shared with
 * other tabs, and is gone when the tab closes. Never in localStorage or a cookie (a cookie
 * would be sent with every request, cross-site requests included).
 */
const KEY = "brigade.token";

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: sign in again on each load
  }
}

export function saveToken(token: string) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the token stays in memory for this page only.
  }
}

export function clearToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
