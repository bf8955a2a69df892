import { makeTag, ownerPrefix } from "../../provider/tag";

const at = new Date("2026-11-25T12:00:00Z");

test("a tag names project, stack, resource and creation time", () => {
  expect(makeTag("demo/dev/web", at)).toBe("pst.demo.dev.web.1795608000");
});

test("two projects with the same stack and resource names get different prefixes", () => {
  expect(ownerPrefix("a/dev/web")).not.toBe(ownerPrefix("b/dev/web"));
});

test.each([
  ["p/s/a/b", "pst.p.s.a_b."],
  ["p/s/$(id);`x`", "pst.p.s.__id___x_."],
  ["p/s/" + "n".repeat(100), `pst.p.s.${"n".repeat(40)}.`],
  ["p/s/ｗeb", "pst.p.s._eb."],
  ["//", "pst._._.resource."],
])("owner %j becomes the inert prefix %j", (owner, prefix) => {
  expect(ownerPrefix(owner)).toBe(prefix);
  expect(makeTag(owner, at)).toMatch(/^pst(\.[A-Za-z0-9_-]+){3}\.\d+$/);
});
