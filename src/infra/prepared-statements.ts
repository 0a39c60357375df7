/**
 * Which statements PostgreSQL parses once per connection.
 *
 * postgres.js sends a statement that is not prepared on its connection, and has parameters, in
 * two round trips: Parse and Describe first (to learn its parameters' types), then Bind and
 * Execute; such a statement also holds back the pipeline behind it. Drizzle sends every query
 * unprepared unless it is named. A prepared statement goes out as Bind and Execute alone: one
 * round trip, no parsing, and PostgreSQL may keep its plan (see below).
 *
 * Nearly every statement the server sends has a fixed text (values travel as parameters), so a
 * text is prepared from its second use on. Two limits:
 * - The driver keeps a connection's prepared statements for the connection's life, and PostgreSQL
 *   keeps each one's plan there. A text that varies (a list spelled out as `in ($1, $2, …)`, a
 *   multi-row insert) would grow both without end, so at most `capacity` texts are prepared; the
 *   rest go out as before.
 * - After five runs PostgreSQL may plan a prepared statement once for any values (a generic plan)
 *   when that plan's estimated cost is no worse than the value-specific ones'. A full-text match
 *   defeats the estimate: the best plan for a rare word and for a common word differ by orders of
 *   magnitude, and a generic plan fits neither. Those statements stay unprepared (planned for
 *   their words every time). A statement whose words are a subquery (`@@ (select …)`) is
 *   written so that one plan fits every word, and says so by hiding them from the planner: its
 *   plan cannot depend on them, so it is prepared like any other.
 */
import type postgres from "postgres";

/** Full-text matches (`tsvector @@ tsquery`) whose words the planner reads: see above. */
const VALUE_DEPENDENT_PLAN = /@@(?!\s*\(select\b)/;

export class StatementAdmission {
  private readonly prepared = new Set<string>();
  private readonly seenOnce = new Set<string>();

  constructor(
    /** At most this many texts are prepared unasked (from their second use), on any one connection. */
    readonly capacity = 500,
  ) {}

  /**
   * Whether `text` runs prepared: from its second use on while there is room, or from its first
   * when its caller asks (a named statement, `executePrepared`); a full-text match whose words
   * the planner reads, never.
   */
  admit(text: string, asked = false): boolean {
    if (this.prepared.has(text)) return true;
    if (VALUE_DEPENDENT_PLAN.test(text)) return false;
    if (asked) return true;
    if (this.prepared.size >= this.capacity) return false;
    if (!this.seenOnce.has(text)) {
      // Texts seen once are many where texts vary; forgetting them all now and then bounds them.
      if (this.seenOnce.size >= this.capacity * 4) this.seenOnce.clear();
      this.seenOnce.add(text);
      return false;
    }
    this.seenOnce.delete(text);
    this.prepared.add(text);
    return true;
  }

  /** How many texts are prepared (at most `capacity`). */
  get size(): number {
    return this.prepared.size;
  }
}

type UnsafeOptions = Parameters<postgres.Sql["unsafe"]>[2];

/**
 * `client` as drizzle sees it, with every statement drizzle sends (`unsafe`) prepared when
 * `admission` admits its text, inside transactions and savepoints too. Everything else is the
 * client itself.
 */
export function preparingClient<T extends postgres.Sql>(client: T, admission: StatementAdmission): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, parameters?: unknown[], options?: UnsafeOptions) =>
          target.unsafe(query, parameters as postgres.ParameterOrJSON<never>[], {
            ...options,
            prepare: admission.admit(query, options?.prepare === true),
          });
      }
      if (property === "begin" || property === "savepoint") {
        const open = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const work = args.pop() as (inner: postgres.Sql) => unknown;
          return open(...args, (inner: postgres.Sql) => work(preparingClient(inner, admission)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
