import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { parse } from "yaml";

/**
 * The slow suite is named twice: in `package.json`'s `test:slow` (what runs it) and in
 * `.taprc`'s `exclude` (what keeps it out of the default suite). A file in one list and not the
 * other would run twice or never; this keeps them the same.
 */
const root = fileURLToPath(new URL("../", import.meta.url));
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts as Record<string, string>;
const taprc = parse(readFileSync(join(root, ".taprc"), "utf8")) as { exclude: string[] };

t.test("the slow suite's files are the ones the default suite leaves out", async (t) => {
  const slow = scripts["test:slow"]!.split(/\s+/).filter((word) => word.endsWith(".test.ts"));
  const excluded = taprc.exclude.filter((pattern) => pattern !== "test/faults/**");
  t.ok(slow.length > 0, `test:slow names ${slow.length} files`);
  t.same([...slow].sort(), [...excluded].sort(), "package.json test:slow and .taprc exclude list the same files");
  t.same(
    slow.filter((file) => !existsSync(join(root, file))),
    [],
    "every listed file exists",
  );
  t.match(scripts["test:faults"], /test\/faults\//, "the fault suite runs what the default suite leaves out under test/faults/");
});
