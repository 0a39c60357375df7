import {
  buildASTSchema,
  type DocumentNode,
  findBreakingChanges,
  findDangerousChanges,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  lexicographicSortSchema,
  parse,
  printSchema,
  validateSchema,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";
import { validateSDL } from "graphql/validation/validate.js";
import type { Change } from "./contracts.changes.js";
import { contractErrors } from "./contracts.errors.js";

/** One GraphQL error as a 422, with the parser's line and column when it gives them. */
function invalidSdl(errors: readonly GraphQLError[]) {
  const first = errors[0]!;
  const loc = first.locations?.[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return contractErrors.invalidContent(
    `The GraphQL SDL is invalid: ${first.message}${loc ? ` (line ${loc.line}, column ${loc.column})` : ""}${more}.`,
    {
      errors: errors.slice(0, 20).map((e) => ({
        field: "content",
        reason: e.locations?.[0] ? `${e.message} (line ${e.locations[0].line}, column ${e.locations[0].column})` : e.message,
      })),
      location: loc ? { line: loc.line, column: loc.column } : null,
      path: null,
    },
  );
}

/**
 * Parses and validates SDL as a complete schema (every type and directive it uses declared, a
 * Query root). The normalised form is the schema sorted by name and printed, so formatting,
 * comments and definition order do not make a new version.
 */
export function parseGraphql(text: string): { schema: GraphQLSchema; normalized: string } {
  let ast: DocumentNode;
  try {
    ast = parse(text, { noLocation: false });
  } catch (err) {
    if (err instanceof GraphQLError) throw invalidSdl([err]);
    throw err;
  }
  const sdlErrors = validateSDL(ast);
  if (sdlErrors.length > 0) throw invalidSdl(sdlErrors);
  const built = buildASTSchema(ast, { assumeValidSDL: true });
  const schemaErrors = validateSchema(built);
  if (schemaErrors.length > 0) throw invalidSdl(schemaErrors);
  const sorted = lexicographicSortSchema(built);
  return { schema: sorted, normalized: printSchema(sorted) };
}

/**
 * A schema coordinate (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`) read from a
 * graphql-js change description; graphql-js gives only the sentence.
 */
function coordinateOf(description: string): string {
  const patterns: [RegExp, (m: RegExpMatchArray) => string][] = [
    [/^An? (?:required|optional) arg (\w+) on (\w+)\.(\w+) was added/, (m) => `${m[2]}.${m[3]}(${m[1]}:)`],
    [/^An? (?:required|optional) field (\w+) on input type (\w+) was added/, (m) => `${m[2]}.${m[1]}`],
    [/^(\w+) was (?:removed from|added to) enum type (\w+)/, (m) => `${m[2]}.${m[1]}`],
    [/^(\w+) was (?:removed from|added to) union type (\w+)/, (m) => m[2]!],
    [/^(\w+)\.(\w+) arg (\w+)/, (m) => `${m[1]}.${m[2]}(${m[3]}:)`],
    [/^(\w+)\.(\w+)/, (m) => `${m[1]}.${m[2]}`],
    [/^(?:Standard scalar |Type )?(\w+)/, (m) => m[1]!],
  ];
  for (const [re, build] of patterns) {
    const m = description.match(re);
    if (m) return build(m);
  }
  return "";
}

const userTypes = (schema: GraphQLSchema) =>
  Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith("__") && !isSpecifiedScalarType(t));

type Described = { description?: string | null | undefined; deprecationReason?: string | null | undefined };

/**
 * What graphql-js does not report: additions that are safe (types, fields, output arguments
 * with defaults are reported as dangerous by it), description changes and deprecations.
 */
function additionsAndAnnotations(before: GraphQLSchema, after: GraphQLSchema, reported: Set<string>): Change[] {
  const changes: Change[] = [];
  const add = (level: Change["level"], action: Change["action"], location: string, message: string) => {
    if (!reported.has(location)) changes.push({ level, action, location, message });
  };
  const annotate = (location: string, a: Described, b: Described, what: string) => {
    if ((a.description ?? null) !== (b.description ?? null))
      add("annotation", "replace", location, `Description of ${what} ${location} changed.`);
    if ((a.deprecationReason ?? null) !== (b.deprecationReason ?? null)) {
      if (b.deprecationReason) add("annotation", "add", location, `${location} was deprecated: ${b.deprecationReason}`);
      else add("annotation", "remove", location, `${location} is no longer deprecated.`);
    }
  };
  const oldTypes = new Map(userTypes(before).map((t) => [t.name, t] as const));
  for (const type of userTypes(after)) {
    const old = oldTypes.get(type.name);
    if (!old) {
      add("non-breaking", "add", type.name, `Type ${type.name} was added.`);
      continue;
    }
    annotate(type.name, old, type, "type");
    compareMembers(old, type, add, annotate);
  }
  return changes;
}

function compareMembers(
  old: GraphQLNamedType,
  type: GraphQLNamedType,
  add: (level: Change["level"], action: Change["action"], location: string, message: string) => void,
  annotate: (location: string, a: Described, b: Described, what: string) => void,
) {
  if (
    (isObjectType(old) && isObjectType(type)) ||
    (isInterfaceType(old) && isInterfaceType(type)) ||
    (isInputObjectType(old) && isInputObjectType(type))
  ) {
    const oldFields = old.getFields() as Record<string, Described & { args?: readonly ({ name: string } & Described)[] }>;
    for (const [name, field] of Object.entries(
      type.getFields() as Record<string, Described & { args?: readonly ({ name: string } & Described)[] }>,
    )) {
      const coordinate = `${type.name}.${name}`;
      const before = oldFields[name];
      if (!before) {
        add("non-breaking", "add", coordinate, `Field ${coordinate} was added.`);
        continue;
      }
      annotate(coordinate, before, field, "field");
      const oldArgs = new Map((before.args ?? []).map((a) => [a.name, a] as const));
      for (const arg of field.args ?? []) {
        const prior = oldArgs.get(arg.name);
        if (prior) annotate(`${coordinate}(${arg.name}:)`, prior, arg, "argument");
      }
    }
  } else if (isEnumType(old) && isEnumType(type)) {
    const oldValues = new Map(old.getValues().map((v) => [v.name, v] as const));
    for (const value of type.getValues()) {
      const prior = oldValues.get(value.name);
      if (prior) annotate(`${type.name}.${value.name}`, prior, value, "enum value");
    }
  }
}

/**
 * Breaking and dangerous changes from graphql-js (`findBreakingChanges`,
 * `findDangerousChanges`), plus safe additions and annotations. Dangerous changes (an enum
 * value or union member added, an optional argument added, a default changed) do not break
 * existing queries, so they count as non-breaking, and say that they are dangerous.
 */
export function diffGraphql(before: GraphQLSchema, after: GraphQLSchema): Change[] {
  const breaking: Change[] = findBreakingChanges(before, after)
    // A built-in scalar disappearing because nothing uses it any more breaks no query.
    .filter((c) => !c.description.startsWith("Standard scalar "))
    .map((c) => ({
      level: "breaking",
      action: c.type.endsWith("_REMOVED") ? "remove" : c.type.endsWith("_ADDED") ? "add" : "replace",
      location: coordinateOf(c.description),
      message: c.description,
    }));
  const dangerous: Change[] = findDangerousChanges(before, after).map((c) => ({
    level: "non-breaking",
    action: c.type.endsWith("_ADDED") ? "add" : "replace",
    location: coordinateOf(c.description),
    message: `${c.description} (dangerous: clients that assume the old set of values or defaults may behave differently)`,
  }));
  const reported = new Set([...breaking, ...dangerous].map((c) => c.location));
  return [...breaking, ...dangerous, ...additionsAndAnnotations(before, after, reported)];
}
