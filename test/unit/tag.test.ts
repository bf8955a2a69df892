import {
  assertTag,
  hasTagPrefix,
  identityOf,
  isOwnerPrefix,
  makeTag,
  ownerPrefix,
  parseOwnerPrefix,
  parseTag,
  stackPart,
  TAG_MAX_LENGTH,
  taggedPathPattern,
  tagMatches,
} from "../../provider/tag";

const at = new Date("2026-11-25T12:00:00Z");
const ID = "0123456789ab";
const who = (owner: string) => ({ owner, identity: identityOf(`urn:pulumi:s::p::t::${owner}`) });

test("a tag names project, stack, resource, its identity and creation time", () => {
  expect(makeTag({ owner: "demo/dev/web", identity: ID }, at)).toBe(`pst.demo.dev.web.${ID}.1795608000`);
});

test("the identity is a short hash of the whole URN: type and parent change it", () => {
  const forward = "urn:pulumi:dev::demo::pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel::svc";
  const allow = "urn:pulumi:dev::demo::pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow::svc";
  const childOfA = "urn:pulumi:dev::demo::my:index:A$pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow::allow";
  const childOfB = "urn:pulumi:dev::demo::my:index:B$pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow::allow";
  const ids = [forward, allow, childOfA, childOfB].map(identityOf);
  expect(new Set(ids).size).toBe(4);
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
  expect(identityOf(forward)).toBe(ids[0]); // computable again before any create: the same URN, the same identity
  expect(ownerPrefix({ owner: "demo/dev/svc", identity: ids[0] })).not.toBe(ownerPrefix({ owner: "demo/dev/svc", identity: ids[1] }));
});

test("same-named stacks of two backends (identical URNs) share an identity: the documented residual risk", () => {
  const urn = "urn:pulumi:dev::demo::pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel::svc";
  expect(ownerPrefix({ owner: "demo/dev/svc", identity: identityOf(urn) })).toBe(ownerPrefix({ owner: "demo/dev/svc", identity: identityOf(urn) }));
});

test("no prefix without an identity: that one would be shared by same-named resources", () => {
  expect(() => ownerPrefix({ owner: "demo/dev/web" })).toThrow(/identity/);
  expect(() => makeTag({ owner: "demo/dev/web", identity: "pst" }, at)).toThrow(/identity/);
  expect(() => makeTag({ owner: "demo/dev/web", identity: "" }, at)).toThrow(/identity/);
});

test("one resource's prefix is never the beginning of another resource's tag", () => {
  const a = who("p/s/web"),
    b = who("p/s/web-forward");
  expect(makeTag(b, at).startsWith(ownerPrefix(a))).toBe(false);
  expect(makeTag(a, at).startsWith(ownerPrefix(b))).toBe(false);
});

test("two projects with the same stack and resource names get different prefixes", () => {
  expect(ownerPrefix({ owner: "a/dev/web", identity: ID })).not.toBe(ownerPrefix({ owner: "b/dev/web", identity: ID }));
});

test.each([
  ["p/s/a/b", /^pst\.p\.s\.a_b\.[0-9a-f]{12}\.$/],
  ["p/s/$(id);`x`", /^pst\.p\.s\.__id___x_\.[0-9a-f]{12}\.$/],
  ["p/s/ｗeb", /^pst\.p\.s\._eb\.[0-9a-f]{12}\.$/],
  ["//", /^pst\.-[0-9a-f]{8}\.-[0-9a-f]{8}\.resource\.[0-9a-f]{12}\.$/],
])("owner %j becomes an inert prefix", (owner, prefix) => {
  expect(ownerPrefix(who(owner))).toMatch(prefix);
  expect(makeTag(who(owner), at)).toMatch(/^pst(\.[A-Za-z0-9_-]+){4}\.\d+$/);
});

test("the longest project, stack and name still fit the 128 characters of an nft comment, with 11-digit seconds", () => {
  const long = "x".repeat(300);
  const tag = makeTag(who(`${long}/${long}/${long}`), new Date(99_999_999_999_000));
  expect(tag.length).toBeLessThanOrEqual(TAG_MAX_LENGTH);
  expect(parseTag(tag)).toMatchObject({ createdUnix: 99_999_999_999 });
});

test("stacks whose names clean to the same text stay apart in tags (reap --stack)", () => {
  expect(stackPart("web.1")).not.toBe(stackPart("web_1"));
  expect(stackPart("ci-1")).toBe("ci-1");
});

describe("parseTag reads both forms", () => {
  test("a tag with an identity", () => {
    expect(parseTag(`pst.demo.ci-1.web-forward.${ID}.1795617874`)).toEqual({
      tag: `pst.demo.ci-1.web-forward.${ID}.1795617874`,
      project: "demo",
      stack: "ci-1",
      resource: "web-forward",
      identity: ID,
      createdUnix: 1795617874,
    });
  });
  test("a tag from before identities, even one of 137 characters", () => {
    const part = `${"x".repeat(31)}-0123abcd`;
    const old = `pst.${part}.${part}.${part}.1795617874`;
    expect(old.length).toBe(137);
    expect(parseTag(old)).toEqual({ tag: old, project: part, stack: part, resource: part, createdUnix: 1795617874 });
    expect(parseTag(old)?.identity).toBeUndefined();
  });
  test.each([`pst.p.s.r.0123456789aB.1795617874`, `pst.p.s.r.0123456789a.x.1795617874`, `pst.p.s.${ID}.1795617874.`])("%j is not ours", (tag) => {
    expect(parseTag(tag)).toBeUndefined();
  });
});

test.each(["pst.dev.web.1", "a-b_c.9"])("tag %j is safe", (tag) => expect(assertTag(tag)).toBe(tag));
test.each(['a"b', "a b", "a;b", "", "x".repeat(129), "a\nb"])("tag %j is refused", (tag) => expect(() => assertTag(tag)).toThrow(/unsafe rule tag/));

describe("make, parse, prefix, assert and match agree", () => {
  const owners = ["demo/dev/web", "a.b/c d/e/f/g", `${"x".repeat(90)}/dev/${"y".repeat(90)}`, "p/s/näme;rm -rf /"];
  test.each(owners)("owner %j", (owner) => {
    const w = who(owner);
    const tag = makeTag(w, at);
    const prefix = ownerPrefix(w);
    expect(assertTag(tag)).toBe(tag);
    expect(assertTag(prefix)).toBe(prefix);
    expect(hasTagPrefix(tag)).toBe(true);
    expect(isOwnerPrefix(prefix)).toBe(true);
    expect(isOwnerPrefix(tag)).toBe(false);
    expect(parseTag(tag)).toMatchObject({ tag, identity: w.identity, createdUnix: 1795608000 });
    const { tag: _t, createdUnix: _c, ...parts } = parseTag(tag)!;
    expect(parseOwnerPrefix(prefix)).toEqual(parts);
    expect(tagMatches(tag, prefix)).toBe(true);
    expect(tagMatches(tag, tag)).toBe(true);
    expect(tagMatches(`${tag}0`, tag)).toBe(false);
    expect(tagMatches(makeTag(who(`${owner}-2`), at), prefix)).toBe(false);
  });
});

test.each(['pst."; reboot; "', "pst.a.b.c.1 x", "pst.a.b.c.1\n", "pst.a/../b.c.1", "pst.a.b.c.$(id)", "pst.", "xpst.a.b.c.1"])(
  "hostile or foreign text %j is not a tag",
  (text) => {
    expect(parseTag(text)).toBeUndefined();
    expect(parseOwnerPrefix(text)).toBeUndefined();
  },
);

test("a tagged path is <one of the dirs>/<tag><suffix>, nothing around it", () => {
  const re = taggedPathPattern("/run/pst|/tmp/pst", "\\.log");
  expect(re.exec("/tmp/pst/pst.p.s.r.1.log")?.slice(1)).toEqual(["/tmp/pst", "pst.p.s.r.1"]);
  for (const path of [
    "/tmp/pst/pst.p.s.r.1.log.x",
    "/elsewhere/pst.p.s.r.1.log",
    "/tmp/pst/x/pst.p.s.r.1.log",
    "/tmp/pst/pst.p s.1.log",
    "/tmp/pst/other.1.log",
  ]) {
    expect(re.exec(path)).toBeNull();
  }
});
