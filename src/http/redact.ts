/** Query parameters that carry credentials (compared after decoding, case-insensitively). */
const SECRET_PARAMETERS = new Set(["access_token", "token"]);

/**
 * A query key as a parser would read it: `+` a space and every `%XX` decoded. Never throws, so a
 * malformed escape elsewhere in the key cannot hide `access%5Ftoken` from the check.
 */
export function decodeQueryKey(key: string): string {
  return key.replace(/\+/g, " ").replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** True when a raw (still encoded) query key names a credential, however it is spelled or escaped. */
export const isSecretQueryKey = (rawKey: string) => SECRET_PARAMETERS.has(decodeQueryKey(rawKey).toLowerCase());

/**
 * The URL with the value of every credential-bearing query parameter replaced, for the logs:
 * `access_token`, `access%5Ftoken`, `%61ccess_token` and `ACCESS_TOKEN` all count.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split("&")
    .map((part) => {
      const eq = part.indexOf("=");
      const key = eq < 0 ? part : part.slice(0, eq);
      return isSecretQueryKey(key) ? `${key}=[redacted]` : part;
    });
  return `${url.slice(0, q)}?${parts.join("&")}`;
}
