import { makeTag, ownerPrefix } from "../../provider/tag";

const at = new Date("2026-11-25T12:00:00Z");

test("a tag names project, stack, resource and creation time", () => {
  expect(makeTag("demo/dev/web", at)).toBe("pst.demo.dev.web.1795608000");
});

test("two projects with the same stack and resource names get different prefixes", () => {
  expect(ownerPrefix("a/dev/web")).not.toBe(ownerPrefix("b/dev/web"));
});

test.each([
  ["p/s/a/b", /^pst\.p\.s\.a_b-[0-9a-f]{8}\.$/],
  ["p/s/$(id);`x`", /^pst\.p\.s\.__id___x_-[0-9a-f]{8}\.$/],
  ["p/s/" + "n".repeat(100), new RegExp(`^pst\\.p\\.s\\.${"n".repeat(31)}-[0-9a-f]{8}\\.$`)],
  ["p/s/ｗeb", /^pst\.p\.s\._eb-[0-9a-f]{8}\.$/],
  ["//", /^pst\.-[0-9a-f]{8}\.-[0-9a-f]{8}\.resource\.$/],
])("owner %j becomes an inert prefix", (owner, prefix) => {
  expect(ownerPrefix(owner)).toMatch(prefix);
  expect(makeTag(owner, at)).toMatch(/^pst(\.[A-Za-z0-9_-]+){3}\.\d+$/);
});

test.each([["web.1", "web_1"], ["a/b", "a_b"], ["x".repeat(40) + "-forward", "x".repeat(40) + "-allow"]])("%j and %j keep distinct prefixes", (a, b) => {
  expect(ownerPrefix(`p/s/${a}`)).not.toBe(ownerPrefix(`p/s/${b}`));
});
