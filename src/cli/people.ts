/**
 * People by name in the CLI's texts: display name, else e-mail, else user name; a deleted user
 * as the server's placeholder ("deleted user"); ids stay references.
 */
import { ok, type BrigadeClient } from "../sdk/client.js";

export async function peopleOf(client: BrigadeClient): Promise<(userId: string) => string> {
  const users = await ok(client.api.GET("/v1/users", { params: { query: { includeDeleted: "true" } } }));
  const names = new Map(users.items.map((u) => [u.id, u.displayName ?? u.email ?? u.name]));
  return (id) => names.get(id) ?? `user ${id}`;
}
