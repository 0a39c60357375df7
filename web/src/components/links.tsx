import { repoHref, repoLinks } from "../lib/links.js";
import { useLinkTemplates } from "../state/link-templates.js";

/** A link out to the code host, marked as leaving the dashboard. */
export function External({ url, label, children }: { url: string; label: string; children?: preact.ComponentChildren }) {
  return (
    <a class="external" href={url} target="_blank" rel="noopener noreferrer" aria-label={label} title={label}>
      {children ?? <span aria-hidden="true">↗</span>}
    </a>
  );
}

/**
 * A repository (or one of its branches, files or folders): the name leads to its page on the
 * dashboard, the arrow beside it to the code host when its address is known.
 */
export function RepoLink({ repo, branch, path, dir }: { repo: string; branch?: string | null; path?: string | null; dir?: boolean }) {
  const links = repoLinks(repo, useLinkTemplates());
  if (path) {
    const url = links ? (dir ? links.dir(path, branch) : links.file(path, branch)) : null;
    return (
      <span class="repo-link">
        <code>{path}</code>
        {url ? <External url={url} label={`Open ${path} on the code host`} /> : null}
      </span>
    );
  }
  if (branch) {
    return (
      <span class="repo-link">
        {branch}
        {links ? <External url={links.branch(branch)} label={`Open branch ${branch} on the code host`} /> : null}
      </span>
    );
  }
  return (
    <span class="repo-link">
      <a href={repoHref(repo)}>{repo}</a>
      {links ? <External url={links.repo} label={`Open ${repo} on the code host`} /> : null}
    </span>
  );
}

/**
 * A CODEOWNERS rule: its line links to that line of the file on the code host (at the host's
 * first CODEOWNERS location), when the host is known.
 */
export function CodeownersRuleLink({ repo, line }: { repo: string; line: number }) {
  const links = repoLinks(repo, useLinkTemplates());
  const path = links?.codeowners;
  if (!links || !path || line <= 0) return <>line {line}</>;
  return (
    <a
      class="external-text"
      href={links.line(path, line)}
      target="_blank"
      rel="noopener noreferrer"
      title={`${path} line ${line} on the code host`}
    >
      line {line}
      <span aria-hidden="true"> ↗</span>
    </a>
  );
}
