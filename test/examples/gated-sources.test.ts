import { readFileSync } from "node:fs";
import { readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { exampleConfig, exampleStack, expectGated, expectNothingLeft, stackTagPrefix } from "./support";

/**
 * examples/gated-sources: several IPv4 and IPv6 source ranges; the v4 ones gate the forward on the
 * trusted IPv4 address, the v6 ones a second forward on the trusted IPv6 address.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
// lab.env has the IPv6 side of the lab too; readLab() carries only what most tests need.
const labEnv = readFileSync(`${lab.dir}/lab.env`, "utf8");
const v6 = (key: string) => /'(.*)'/.exec(labEnv.split("\n").find((l) => l.startsWith(`export ${key}=`)) ?? "")?.[1] ?? "";
const trusted6 = v6("PST_TH_TRUSTED_ADDR6");
const trustedCidr6 = v6("PST_TRUSTED_CIDR6");
const PORT = 8163;

const stack = exampleStack("gated-sources", "sources");
const prefix = stackTagPrefix("gated-sources-example", stack.name);
let urls: string[] = [];

afterAll(() => stack.run("destroy"));

test("the lab has an IPv6 trusted side", () => {
  expect(trusted6).toMatch(/:/);
  expect(trustedCidr6).toMatch(/:.*\/\d+$/);
});

test("up: one rule per source on each tunnel; trusted clients get through on IPv4 and IPv6, untrusted ones do not", async () => {
  // Extra ranges nobody in the lab uses: they must be admitted too (and not widen anything).
  const sources = [lab.trustedCidr, "203.0.113.0/24", "192.0.2.7", trustedCidr6, "2001:db8:ffff::/48"];
  const out = await stack.ok("up", exampleConfig(lab, PORT, true, { sources: JSON.stringify(sources), bindAddress6: trusted6 }));
  urls = [String(out.url), String(out.url6)];
  expect(urls).toEqual([`http://${lab.thTrusted}:${PORT}/`, `http://[${trusted6}]:${PORT}/`]);
  expect((out.rules as { source: string }[]).map((r) => r.source).sort()).toEqual([lab.trustedCidr, "192.0.2.7", "203.0.113.0/24"].sort());
  expect((out.rules6 as { source: string }[]).map((r) => r.source).sort()).toEqual([trustedCidr6, "2001:db8:ffff::/48"].sort());
  const rules = await tunnelHostUfwRules(lab);
  for (const tag of [out.ruleTag, out.ruleTag6]) expect(rules).toContain(String(tag));
  for (const url of urls) await expectGated(lab, url);
});

test("destroy: no ssh process and no firewall rule with the stack's tag", async () => {
  await stack.ok("destroy");
  await expectNothingLeft(lab, prefix, urls);
});
