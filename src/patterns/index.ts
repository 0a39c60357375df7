/**
 * Brigade path patterns: GitHub CODEOWNERS syntax and semantics, with exact overlap detection
 * and an index for comparing a new claim only against claims that could collide with it.
 */

export {
  MAX_PATTERN_LENGTH,
  PatternError,
  firstLiteralSegments,
  parsePattern,
  validatePattern,
  type GlobToken,
  type Pattern,
  type PatternValidation,
  type Segment,
} from './pattern.js';
export { MAX_PATH_LENGTH, PathError, validatePath, type PathValidation } from './path.js';
export { matches } from './match.js';
export { overlap } from './overlap.js';
export { PatternIndex, type IndexEntry, type OverlapEntry } from './pattern-index.js';
