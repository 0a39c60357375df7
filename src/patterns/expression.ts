/**
 * The meaning of a pattern, written as a regular expression over path characters.
 *
 * This is the single place that encodes CODEOWNERS semantics (anchoring, `**`, "a match also
 * covers everything below it", the lone-`*` exception, trailing `/`). Both matching and overlap
 * run on the automaton compiled from this expression, so they cannot disagree.
 *
 * Notation used in comments below: N = any character except `/`, S = `/`, A = any character.
 * The expression does not itself forbid empty or `.`/`..` segments in the "A" parts; paths are
 * validated before matching, and the overlap search intersects with a valid-path automaton.
 */

import { isLoneStar, type Pattern, type Segment } from "./pattern.js";

export type SymbolClass =
  | { readonly kind: "char"; readonly codePoint: number }
  | { readonly kind: "name" }
  | { readonly kind: "slash" }
  | { readonly kind: "any" };

export type Expression =
  | { readonly op: "symbol"; readonly cls: SymbolClass }
  | { readonly op: "sequence"; readonly items: readonly Expression[] }
  | { readonly op: "zero-or-more"; readonly item: Expression }
  | { readonly op: "one-or-more"; readonly item: Expression }
  | { readonly op: "optional"; readonly item: Expression };

const NAME: Expression = { op: "symbol", cls: { kind: "name" } };
const SLASH: Expression = { op: "symbol", cls: { kind: "slash" } };
const ANY: Expression = { op: "symbol", cls: { kind: "any" } };

const sequence = (...items: Expression[]): Expression => ({ op: "sequence", items });
const zeroOrMore = (item: Expression): Expression => ({ op: "zero-or-more", item });
const oneOrMore = (item: Expression): Expression => ({ op: "one-or-more", item });
const optional = (item: Expression): Expression => ({ op: "optional", item });

/** `S A+`: something strictly inside the directory matched so far. */
const BELOW = sequence(SLASH, oneOrMore(ANY));

export function toExpression(pattern: Pattern): Expression {
  // An unanchored pattern behaves exactly like the same pattern after a leading `**/`.
  const withPrefix: Segment[] = pattern.anchored ? [...pattern.segments] : [{ kind: "globstar" }, ...pattern.segments];
  // `**/**` means the same as `**`; collapsing keeps the automaton small.
  const segments = withPrefix.filter((segment, i) => !(segment.kind === "globstar" && withPrefix[i - 1]?.kind === "globstar"));

  const out: Expression[] = [];
  // Whether a segment has been emitted, i.e. whether the next segment must be preceded by `/`.
  let afterSegment = false;

  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const isLast = i === segments.length - 1;

    if (segment.kind === "globstar") {
      if (isLast && !pattern.directoryOnly) {
        // Trailing `a/**` is "everything inside a" (not `a` itself); a bare `**` is everything.
        out.push(afterSegment ? BELOW : oneOrMore(ANY));
        return sequence(...out);
      }
      // Leading or middle `**` (or one followed by the trailing `/`) is zero or more whole
      // segments, so `a/**/b` also matches `a/b`. Which side carries the slash depends on
      // whether a segment came before it.
      out.push(afterSegment ? zeroOrMore(sequence(SLASH, oneOrMore(NAME))) : zeroOrMore(sequence(oneOrMore(NAME), SLASH)));
      continue;
    }

    if (afterSegment) out.push(SLASH);
    out.push(segmentExpression(segment));
    afterSegment = true;
  }

  const last = segments[segments.length - 1]!;
  if (pattern.directoryOnly) {
    // `apps/` names a directory: only what is inside it matches, never a file called `apps`.
    out.push(afterSegment ? BELOW : oneOrMore(ANY));
  } else if (!isLoneStar(last)) {
    // Matching a directory covers everything below it. GitHub's one exception is a final lone
    // `*`: `docs/*` is the files directly in docs/, not docs/a/b.md.
    out.push(optional(BELOW));
  }
  return sequence(...out);
}

function segmentExpression(segment: Segment): Expression {
  if (segment.kind === "literal") return literal(segment.value);
  if (segment.kind === "globstar") throw new Error("globstar segments are handled by toExpression");
  // A lone `*` must still match a non-empty name; other stars sit next to something non-empty.
  if (isLoneStar(segment)) return oneOrMore(NAME);
  return sequence(
    ...segment.tokens.map((token) => {
      if (token.kind === "literal") return literal(token.value);
      return token.kind === "star" ? zeroOrMore(NAME) : NAME;
    }),
  );
}

function literal(value: string): Expression {
  return sequence(...Array.from(value, (char) => ({ op: "symbol", cls: { kind: "char", codePoint: char.codePointAt(0)! } }) as const));
}
