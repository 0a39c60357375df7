import { Column, is, SQL } from "drizzle-orm";

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** One column of a row: where it goes in the object (a key, or a key of a nested object) and how it is read. */
interface Slot {
  key: string;
  inner: string | undefined;
  decoder: Decoder;
}

type Field = Column | SQL | SQL.Aliased;
/** A select's fields: columns and SQL, at the top or one object deep (as `{ sender: { name, deleted } }`). */
export type Selection = Record<string, Field | Record<string, Field>>;

const isField = (value: unknown): value is Field => is(value, Column) || is(value, SQL) || is(value, SQL.Aliased);
/** How drizzle itself reads a field (an SQL's decoder is what `mapWith` set; its typings leave it out). */
const sqlDecoder = (chunk: SQL): Decoder => (chunk as unknown as { decoder: Decoder }).decoder;
const decoderOf = (field: Field): Decoder => (is(field, Column) ? field : is(field, SQL) ? sqlDecoder(field) : sqlDecoder(field.sql));

/**
 * Rows of a select (arrays, in the order of its selection's keys, as drizzle's builder writes the
 * select list) as objects, by a mapping worked out once per selection. drizzle works the mapping
 * out afresh for every row, identifying each field's kind by walking prototypes: for a page of
 * 50 messages that was a sixth of the server's time on the inbox route.
 *
 * Nested objects hold computed fields only: drizzle nulls a nested object of an outer-joined
 * table's columns as a whole when they all come back null, and this mapper does not, so such a
 * selection is refused where it is built.
 */
export function rowMapper<T>(selection: Selection): (rows: unknown[][]) => T[] {
  const slots: Slot[] = [];
  for (const [key, field] of Object.entries(selection)) {
    if (isField(field)) {
      slots.push({ key, inner: undefined, decoder: decoderOf(field) });
      continue;
    }
    for (const [inner, nested] of Object.entries(field)) {
      if (is(nested, Column))
        throw new Error(`rowMapper: ${key}.${inner} is a table's column in a nested object; drizzle's own mapping handles those`);
      slots.push({ key, inner, decoder: decoderOf(nested) });
    }
  }
  const mapRow = (row: unknown[]): T => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < slots.length; i++) {
      const { key, inner, decoder } = slots[i]!;
      const raw = row[i];
      const value = raw === null || raw === undefined ? null : decoder.mapFromDriverValue(raw);
      if (inner === undefined) out[key] = value;
      else ((out[key] ??= {}) as Record<string, unknown>)[inner] = value;
    }
    return out as T;
  };
  return (rows) => rows.map(mapRow);
}
