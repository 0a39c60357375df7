import type { Db } from "../../infra/db.js";
import { eventErrors } from "./events.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { findEventSeq, listEventsAfter } from "./events.repository.js";

export async function readEvents(
  { db }: { db: Db },
  principal: Principal,
  query: { after?: string | undefined; type?: string | undefined; limit: number },
) {
  let afterSeq = 0;
  if (query.after) {
    const seq = await findEventSeq(db, principal.orgId, query.after);
    if (seq === undefined) throw eventErrors.unknownCursor(`No event ${query.after} in this organisation.`, { errors: [{ field: "after", reason: "unknown event id" }] });
    afterSeq = seq;
  }
  return listEventsAfter(db, principal.orgId, afterSeq, query.limit, query.type);
}
