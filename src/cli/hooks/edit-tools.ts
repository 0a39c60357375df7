/**
 * Claude Code's tools that edit one file, and the field of their input that names it: what the
 * pre-edit hook checks (both its paths), what the Bash hook records after an edit, and the
 * matcher the installer writes. Its own module, so the pre-edit hook's quick path loads nothing else.
 */
export const EDIT_TOOL_FIELDS: Readonly<Record<string, string>> = {
  Edit: "file_path",
  MultiEdit: "file_path",
  Write: "file_path",
  NotebookEdit: "notebook_path",
};

/** The file an edit tool's input names, when `tool` is an edit tool. */
export function editedFile(tool: string | undefined, input: Record<string, unknown> | undefined): { known: boolean; file: unknown } {
  const field = tool === undefined ? undefined : EDIT_TOOL_FIELDS[tool];
  return field === undefined ? { known: false, file: undefined } : { known: true, file: input?.[field] };
}
