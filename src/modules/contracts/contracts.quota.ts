import type { Db } from "../../infra/db.js";
import { quotaExceeded } from "../limits/limits.errors.js";
import type { Limits } from "../limits/limits.usecases.js";
import { storedContentBytes } from "./contracts.repository.js";

/**
 * The organisation's stored contract content (versions and proposals, as stored) plus what a
 * publish or proposal adds must stay within contractBytesPerOrg. Checked before the content
 * is parsed, so refused content costs no parsing either.
 */
export async function checkContractBytes(
  deps: { db: Db; limits?: Pick<Limits, "forOrg"> | undefined },
  orgId: string,
  content: string,
): Promise<void> {
  if (!deps.limits) return;
  const { contractBytesPerOrg: max } = await deps.limits.forOrg(orgId);
  if (max <= 0) return;
  const adding = Buffer.byteLength(content, "utf8");
  const stored = await storedContentBytes(deps.db, orgId);
  if (stored + adding > max) {
    throw quotaExceeded(
      "contracts.quota_exceeded",
      "contractBytesPerOrg",
      max,
      `The organisation stores ${stored} bytes of contract content; ${adding} more would pass its limit. Archive or remove contracts first`,
    );
  }
}
