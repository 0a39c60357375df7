// People by name in texts (refusals, hook answers, alerts): other domains ask here rather than
// read the users table, and get the display name, else the e-mail, else the user name; a
// deleted user is named by the placeholder (DELETED_USER_NAME), never by what it was.
import type { Db } from "../../infra/db.js";
import { personNames } from "./identity.repository.js";

export interface People {
  /** The person's name, or the id itself when unknown (never empty). */
  name(userId: string): string;
}

/** A person as a sender or author is shown: name (or placeholder), and whether deleted. */
export interface Person {
  name: string;
  deleted: boolean;
}

export async function peopleNamed(db: Db, orgId: string, userIds: string[]): Promise<People & { person(userId: string): Person }> {
  const names = await personNames(db, orgId, userIds);
  return { name: (id) => names.get(id)?.name ?? id, person: (id) => names.get(id) ?? { name: id, deleted: false } };
}

/** "Alice Martin's agent claude-1": how a holder is named. */
export const holderText = (people: People, holder: { userId: string; agent: { name: string } }) =>
  `${people.name(holder.userId)}'s agent ${holder.agent.name}`;
