import t from "tap";
import { documentLines, foldUnchanged, sideBySide } from "../../web/src/lib/line-diff.js";

t.test("when two documents differ, then unchanged lines face each other and changes are marked", async (t) => {
  const rows = sideBySide(["a", "b", "c", "d", "e"], ["a", "B", "c", "e", "f"]);
  t.same(
    rows.map((r) => [r.kind, r.left?.no ?? null, r.left?.text ?? null, r.right?.no ?? null, r.right?.text ?? null]),
    [
      ["same", 1, "a", 1, "a"],
      ["changed", 2, "b", 2, "B"],
      ["same", 3, "c", 3, "c"],
      ["removed", 4, "d", null, null],
      ["same", 5, "e", 4, "e"],
      ["added", null, null, 5, "f"],
    ],
  );
  t.same(
    sideBySide(["x"], ["x"]).map((r) => r.kind),
    ["same"],
    "identical documents: nothing marked",
  );
  t.same(
    sideBySide([], ["new"]).map((r) => r.kind),
    ["added"],
  );
});

t.test("when a document is JSON on one line, then it is compared member by member", async (t) => {
  const lines = documentLines('{"paths":{"/orders":{},"/refunds":{}}}');
  t.ok(lines.length > 3, "pretty-printed");
  const rows = sideBySide(lines, documentLines('{"paths":{"/orders":{}}}'));
  const marked = rows.filter((r) => r.kind !== "same");
  t.ok(
    marked.some((r) => r.left?.text.includes("/refunds")),
    "the removed path is a marked line",
  );
  const orders = rows.find((r) => r.left?.text.includes("/orders"));
  t.ok(orders?.right?.text.includes("/orders"), "the kept path faces itself (only its comma differs)");
  t.notOk(
    rows.some((r) => r.right?.text.includes("/refunds")),
    "the removed one is on the left only",
  );
  t.same(documentLines("type A {\r\n  x: Int\r\n}\n"), ["type A {", "  x: Int", "}"], "other text by its lines");
});

t.test("when long stretches are unchanged, then they fold around the changes with some context", async (t) => {
  const before = Array.from({ length: 40 }, (_, i) => `line ${i}`);
  const after = [...before];
  after[20] = "changed";
  const blocks = foldUnchanged(sideBySide(before, after), 3);
  t.same(
    blocks.map((b) => (b.kind === "skip" ? `skip ${b.count}` : `rows ${b.rows.length}`)),
    ["skip 17", "rows 7", "skip 16"],
  );
  t.equal(
    blocks.reduce((n, b) => n + b.rows.length, 0),
    40,
    "every line is in a block",
  );
});
