import { PatternIndex } from "../../../src/patterns/index.js";

export interface OwnerRule {
  line: number;
  pattern: string;
  owners: string[];
}

/**
 * Who owns a path by the repository's CODEOWNERS rules (as GET /v1/repos/{repo}/codeowners
 * returns them): the last matching rule wins, as on GitHub and in the server
 * (src/modules/ownership/codeowners.ts), over the same pattern language and index.
 */
export class OwnersLookup {
  private readonly index = new PatternIndex<OwnerRule>();

  constructor(rules: readonly OwnerRule[]) {
    for (const rule of rules) {
      try {
        this.index.add(String(rule.line), rule.pattern, rule);
      } catch {
        // The server stored only valid rules; skip anything this client cannot read.
      }
    }
  }

  /** The deciding rule for `path`, or null when none matches. Throws for an invalid path. */
  owners(path: string): { owners: string[]; rule: OwnerRule } | null {
    let last: OwnerRule | undefined;
    for (const { value } of this.index.matching(path)) if (last === undefined || value.line > last.line) last = value;
    return last === undefined ? null : { owners: last.owners, rule: last };
  }
}
