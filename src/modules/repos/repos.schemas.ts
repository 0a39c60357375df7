import { z } from "zod";

const timestamp = z.iso.datetime({ offset: true });

export const repoParams = z.object({ repo: z.string().min(1).max(1024).describe("Repository key or remote, URL-encoded.") });
export type RepoInput = z.infer<typeof repoParams>;

/**
 * The placeholders of a link template. `{host}` and `{repo}` split the repository's key
 * (`git.example.com` and `acme/api` of `git.example.com/acme/api`); `{ref}` is a branch, or
 * HEAD; `{path}` a file or folder; `{line}` a line number (what follows `{line}`'s `#` is dropped
 * for a link to a whole file). The dashboard fills them in (web/src/lib/links.ts).
 */
export const LINK_PLACEHOLDERS = ["host", "repo", "ref", "path", "line"] as const;
const SAMPLE: Record<(typeof LINK_PLACEHOLDERS)[number], string> = {
  host: "git.example.com",
  repo: "acme/api",
  ref: "main",
  path: "src/a.ts",
  line: "1",
};

/** Why a template cannot be used, or null: checked with every placeholder filled in. */
export function linkTemplateProblem(template: string): string | null {
  if (!/^https?:\/\//i.test(template)) return "must be an http:// or https:// address";
  const named: string[] = template.match(/\{[^{}]*\}/g) ?? [];
  const unknown = named.find((p) => !(LINK_PLACEHOLDERS as readonly string[]).includes(p.slice(1, -1)));
  if (unknown) return `names the unknown placeholder ${unknown}; the known ones are ${LINK_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`;
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ""))) return "has a { or } that opens or closes no placeholder";
  if (!named.includes("{path}")) return "must place {path}: links to files and folders need it";
  let url: URL;
  try {
    url = new URL(template.replace(/\{([a-z]+)\}/g, (_, name: keyof typeof SAMPLE) => SAMPLE[name]));
  } catch {
    return "is not a valid URL once its placeholders are filled in";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http:// or https:// address";
  if (url.username || url.password) return "must not carry credentials";
  return null;
}

export const putLinkTemplateBody = z
  .object({
    template: z
      .string()
      .trim()
      .min(1)
      .max(2048)
      .superRefine((value, ctx) => {
        const problem = linkTemplateProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe(
        "An http(s) address with placeholders {host}, {repo}, {ref}, {path} and {line}, e.g. https://git.example.com/{repo}/blob/{ref}/{path}#L{line}.",
      ),
  })
  .strict();
export type PutLinkTemplateInput = RepoInput & z.infer<typeof putLinkTemplateBody>;

export const linkTemplateSchema = z
  .object({
    repo: z.string().describe("The repository's key."),
    template: z.string(),
    updatedAt: timestamp,
    updatedBy: z.uuid().nullable(),
  })
  .meta({ id: "RepoLinkTemplate" });

export const linkTemplateListSchema = z
  .object({ items: z.array(linkTemplateSchema).describe("Every repository of the organisation that has one, by key.") })
  .meta({ id: "RepoLinkTemplateList" });
