// Brigade path patterns: GitHub CODEOWNERS syntax and semantics, with exact overlap detection
// and an index for comparing a new claim only against claims that could collide with it.
//
// Semantics (see the conformance table in test/patterns/conformance.json):
// - No slash, or only a trailing one (`foo`, `*.ts`, `apps/`): matches at any depth. Any other
//   slash anchors the pattern at the repository root; a leading `/` only anchors.
// - A trailing `/` matches only what is inside a matching directory (`apps/` never matches a
//   file named `apps`).
// - `*` is any run of characters within one segment, `?` exactly one character other than `/`
//   (one Unicode code point). `**` as a whole segment is any number of whole segments: leading
//   `**/x` and middle `a/**/b` may match zero segments, trailing `a/**` is everything inside
//   `a` (not `a` itself). `**` inside a segment (`a**`) is just `*`, as in gitignore.
// - A pattern also matches everything below a directory it matches, except when its last
//   segment is a lone `*` (`docs/*` is only the direct children of docs). This applies to
//   wildcard names too: `*.md` matches `notes.md/todo.txt`, so `*.md` and `*.ts` overlap on
//   paths like `x.ts/y.md`.
// - `docs/*/` (lone `*` then `/`) names directories directly under docs, and so matches
//   everything inside them at any depth. `/*` is only the files at the root, while `*`, `**`,
//   `/**` and `**/` all match every path; `foo/**/` means the same as `foo/`.
// - `[`, `]`, `!` and `#` are literal characters anywhere, including at the start (a pattern
//   here is not a CODEOWNERS line, so there are no comments or negation). Matching is
//   case-sensitive.
// - `\` escapes only characters that could otherwise be syntax: `* ? [ ] ! #` and space.
//   Any other use is rejected, with the reason: a trailing `\`, `\\` (paths cannot contain a
//   backslash), and `\` before anything else such as `src\auth` (a Windows path typed by mistake;
//   reading it as `srcauth` would silently claim the wrong files).
// - Leading or trailing unescaped whitespace is rejected as almost certainly accidental;
//   spaces inside a pattern are literal, and `\ ` keeps a space at either end.

export {
  MAX_PATTERN_LENGTH,
  MAX_WILDCARDS,
  PatternError,
  firstLiteralSegments,
  parsePattern,
  validatePattern,
  type GlobToken,
  type Pattern,
  type PatternValidation,
  type Segment,
} from "./pattern.js";
export { MAX_PATH_LENGTH, PathError, validatePath, type PathValidation } from "./path.js";
export { matches } from "./match.js";
export { aPathInside, coversDirectory, directoryOf, insideDirectory, unmatchedInside } from "./directory.js";
export { overlap } from "./overlap.js";
export { PatternIndex, type IndexEntry, type OverlapEntry } from "./pattern-index.js";
export { RepoTree, TreeBuilder, treeSide, type OverlapInTree, type TreeSide } from "./tree.js";
