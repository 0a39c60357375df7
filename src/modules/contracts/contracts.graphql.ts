import { diffSchema } from "@graphql-inspector/core/diff/schema";
import {
  buildASTSchema,
  type DocumentNode,
  GraphQLError,
  isSpecifiedScalarType,
  lexicographicSortSchema,
  parse,
  printSchema,
  validateSchema,
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

type InspectorChange = ReturnType<typeof diffSchema>[number];

const LEVELS: Record<string, Change["level"]> = {
  BREAKING: "breaking",
  DANGEROUS: "dangerous",
  NON_BREAKING: "non-breaking",
};

/**
 * A schema coordinate for a change: `Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`,
 * `@directive`, `@directive(arg:)`. graphql-inspector's own paths write arguments as
 * `Type.field.arg` and, for an argument added to a directive, name only the directive.
 */
export function coordinateOf(change: InspectorChange): string {
  const meta = (change.meta ?? {}) as Record<string, unknown>;
  const str = (key: string) => (typeof meta[key] === "string" ? (meta[key] as string) : undefined);
  const directive = str("directiveName");
  const directiveArg = str("directiveArgumentName") ?? str("addedDirectiveArgumentName") ?? str("removedDirectiveArgumentName");
  if (change.type.startsWith("DIRECTIVE_") && !change.type.startsWith("DIRECTIVE_USAGE") && directive)
    return directiveArg ? `@${directive}(${directiveArg}:)` : `@${directive}`;
  const argument = str("argumentName") ?? str("addedArgumentName") ?? str("removedFieldArgumentName");
  const type = str("typeName");
  const field = str("fieldName");
  if (argument && type && field) return `${type}.${field}(${argument}:)`;
  const root = /^SCHEMA_(QUERY|MUTATION|SUBSCRIPTION)_TYPE_CHANGED$/.exec(change.type)?.[1];
  if (root) return `schema.${root.toLowerCase()}`;
  return change.path ?? "";
}

const ACTION: [RegExp, Change["action"]][] = [
  [/_REMOVED$/, "remove"],
  [/_ADDED$/, "add"],
];

/**
 * Every change graphql-inspector's core finds (its diff is the reference for GraphQL), with its
 * criticality: breaking, dangerous (an enum value or union member added, an optional argument
 * added, a default changed: no query breaks, a client may be surprised) or non-breaking.
 * Descriptions and deprecations are annotations.
 */
export function diffGraphql(before: GraphQLSchema, after: GraphQLSchema): Change[] {
  return (
    diffSchema(before, after)
      // A built-in scalar disappearing because nothing uses it any more breaks no query.
      .filter((c) => {
        const type = c.type === "TYPE_REMOVED" ? before.getType(String(c.path)) : undefined;
        return !(type && isSpecifiedScalarType(type));
      })
      .map((c) => {
        const annotation = /DESCRIPTION|DEPRECATION/.test(c.type) && c.criticality.level === "NON_BREAKING";
        return {
          level: annotation ? "annotation" : (LEVELS[c.criticality.level] ?? "unclassified"),
          action: ACTION.find(([re]) => re.test(c.type))?.[1] ?? "replace",
          location: coordinateOf(c),
          message:
            c.criticality.reason && c.criticality.level !== "NON_BREAKING" ? `${c.message}. ${c.criticality.reason}` : `${c.message}.`,
        };
      })
  );
}
