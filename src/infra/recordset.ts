import { getTableColumns, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/**
 * Prepared inserts take their rows as one JSON parameter, read back by
 * `jsonb_to_recordset(…) as alias(column type, …)`, so the statement's text never varies with
 * the number of rows. Both that column list and each row's JSON keys come from the table's
 * definition here, so neither can drift from the table (test/infra/recordset.test.ts compares
 * them with the migrated database too).
 */
export function recordset<T extends PgTable, K extends keyof T["$inferInsert"] & string>(table: T, alias: string, keys: readonly K[]) {
  const columns = getTableColumns(table) as Record<string, { name: string; getSQLType(): string } | undefined>;
  const spec = keys.map((key) => {
    const column = columns[key];
    if (!column) throw new Error(`recordset: ${key} is not a column of this table`);
    return { key, name: column.name, type: column.getSQLType() };
  });
  return {
    /** Each column: its key in the table definition, its name and the type the recordset reads. */
    spec,
    /** `alias(name type, …)`, for `jsonb_to_recordset(…) as` this. */
    columns: sql.raw(`${alias}(${spec.map((s) => `${s.name} ${s.type}`).join(", ")})`),
    /** `name, …`, for the insert's column list. */
    names: sql.raw(spec.map((s) => s.name).join(", ")),
    /** `alias.name, …`, for the select that feeds the insert. */
    selected: sql.raw(spec.map((s) => `${alias}.${s.name}`).join(", ")),
    /** One row as the JSON the recordset reads. */
    row: (value: { [P in K]: unknown }) => {
      // A plain loop: this runs for every row of every grant and event, and entry arrays are garbage.
      const row: Record<string, unknown> = {};
      for (const s of spec) row[s.name] = value[s.key];
      return row;
    },
  };
}
