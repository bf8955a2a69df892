import { fetchFrom, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { expectRefreshTruths, outputsOf, pluginFrontEnd, REACHED, typescriptFrontEnd, type Forward, type FrontEnd } from "../support/front-ends";
import { whileUntrustedTries } from "../support/prober";

/**
 * One table of lifecycle cases, run against both front ends over the one lifecycle: the
 * TypeScript classes and the provider plugin (a YAML stack through the installed plugin). Each
 * front end keeps one stack through the cases, in order, as a user's stack lives: created, its
 * sources changed in place, its port changed (a replacement), its ssh and then its keeper killed
 * behind pulumi's back and refreshed, and destroyed. Every check is what a user observes: a
 * client let in or not, the checkpoint, the processes and rules on the tunnel host.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const url = (port: number) => `http://${lab.thTrusted}:${port}/`;
// The untrusted client's link (the /24 of the tunnel host's address on it): a source range that lets it in, and not the trusted one.
const UNTRUSTED_ONLY = `${lab.thUntrustedSide.replace(/\.\d+$/, ".0")}/24`;

describe.each([
  ["TypeScript classes", () => typescriptFrontEnd(lab, "it-fe-ts"), 8493],
  ["provider plugin", () => pluginFrontEnd(lab, "it-fe-yaml"), 8496],
])("%s", (_name, make, port) => {
  const fe: FrontEnd = make();
  const first: Forward = { port, source: lab.trustedCidr };
  const tunnel = async () => outputsOf(await fe.resources(), fe.types.tunnel);
  let created: Record<string, unknown> = {};

  beforeAll(() => fe.init());
  afterAll(() => fe.cleanUp());

  test("create: the trusted client gets in, the untrusted one never does; a preview then changes nothing", async () => {
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], () => fe.up(first));
    expect(await fetchFrom(lab.nsTc, url(port))).toBe(REACHED);
    expect(await fetchFrom(lab.nsUc, url(port))).toBeUndefined();
    expect(await fe.previewUnchanged(first)).toBe(true);
    const resources = await fe.resources();
    created = outputsOf(resources, fe.types.tunnel) ?? {};
    // Each front end's own type tokens; the rule pairs with the forward by the forward's tag prefix.
    expect(String(created.tag).startsWith(String(outputsOf(resources, fe.types.rule)?.gatesForwardsOf))).toBe(true);
    expect(String(created.tag).startsWith(fe.prefix)).toBe(true);
    // The forward's URN as before: a TypeScript stack created earlier is the same stack, not a new one.
    expect(resources.map((r) => r.urn)).toContain(fe.tunnelUrn);
  });

  test("update in place: new sources change the rule, not the forward (same ssh, same keeper)", async () => {
    await fe.up({ port, source: UNTRUSTED_ONLY });
    expect(await tunnel()).toMatchObject({ pid: created.pid, keeperPid: created.keeperPid });
    expect(await fetchFrom(lab.nsUc, url(port))).toBe(REACHED);
    expect(await fetchFrom(lab.nsTc, url(port))).toBeUndefined();
    // Back to the trusted range, still in place: the untrusted client must be out again.
    await fe.up(first);
    expect(await tunnel()).toMatchObject({ pid: created.pid, keeperPid: created.keeperPid });
    expect(await fetchFrom(lab.nsUc, url(port))).toBeUndefined();
  });

  test("replacement: a new port gets a new listener, the old one is gone, the untrusted client never in on either", async () => {
    const moved: Forward = { port: port + 1, source: lab.trustedCidr };
    const targets = [port, moved.port].map((p) => ({ host: lab.thTrusted, port: p }));
    await whileUntrustedTries(lab.nsUc, targets, () => fe.up(moved));
    const now = await tunnel();
    expect(now?.pid).not.toBe(created.pid);
    expect(await fetchFrom(lab.nsTc, url(moved.port))).toBe(REACHED);
    expect(await fetchFrom(lab.nsTc, url(port))).toBeUndefined();
    expect(await sshProcessesWith(String(created.tag))).toEqual([]);
    created = now ?? {};
  });

  test("refresh truths: the keeper restarts a killed ssh and refresh counts it; a killed keeper is refreshed as gone", () =>
    expectRefreshTruths(lab, fe, created, url(port + 1)));

  test("delete: nothing of the stack's whole life is left on the tunnel host", async () => {
    await fe.destroy();
    expect(await fetchFrom(lab.nsTc, url(port + 1))).toBeUndefined();
    await expectNothingLeftOnTunnelHost(lab, fe.prefix);
  });
});
