import { fetchFrom, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { expectRefreshTruths, outputsOf, REACHED, sdkFrontEnd } from "../support/front-ends";
import { whileUntrustedTries } from "../support/prober";

/**
 * The Python and Go quick starts (examples/python, examples/go: the programs the README shows),
 * through their generated SDKs (sdk/) and the plugin installed from its tarball, each run in a
 * process of its own language by the inline Automation API: the trusted client gets in, an
 * untrusted client trying all along never does, a preview after up changes nothing, the keys
 * (given as plain strings read from files) are nowhere in the backend, refresh tells what a kill
 * behind pulumi's back left, and destroy leaves nothing on the host.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();

describe.each([
  ["python", 8501],
  ["go", 8503],
] as const)("%s SDK", (language, port) => {
  const fe = sdkFrontEnd(lab, `it-sdk-${language}`, language);
  const url = `http://${lab.thTrusted}:${port}/`;
  const forward = { port, source: lab.trustedCidr };
  let created: Record<string, unknown> = {};

  beforeAll(() => fe.init());
  afterAll(() => fe.cleanUp());

  test("up: the trusted client gets in, the untrusted one never does; a preview then changes nothing; no key stored", async () => {
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], () => fe.up(forward));
    expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
    expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
    const outputs = JSON.parse(await fe.stack.ok(["stack", "output", "--json"])) as { url: string; pid: number };
    expect(outputs.url).toBe(url);
    expect(await fe.previewUnchanged(forward)).toBe(true);
    // ...and a preview does see a change (the driver's preview is not a no-op that always passes).
    expect(await fe.previewUnchanged({ ...forward, source: lab.thUntrustedSide })).toBe(false);
    await fe.stack.ok(["config", "set", "source", forward.source]);

    const resources = await fe.resources();
    created = outputsOf(resources, fe.types.tunnel) ?? {};
    expect(outputs.pid).toBe(created.pid);
    // The rule pairs with the forward by the forward's own tag prefix (the guard and expiry stop it by that).
    expect(String(created.tag).startsWith(String(outputsOf(resources, fe.types.rule)?.gatesForwardsOf))).toBe(true);
    expect(String(created.tag).startsWith(fe.prefix)).toBe(true);
    expect(resources.map((r) => r.urn)).toContain(fe.tunnelUrn);
    expect(fe.stack.filesHoldingKeys([lab.thKey, lab.gwKey])).toEqual([]);
  });

  test("refresh truths: a killed ssh is restarted and counted; a killed keeper is refreshed as gone", () =>
    expectRefreshTruths(lab, fe, created, url));

  test("destroy: nothing is left on the tunnel host, and no key in the backend", async () => {
    await fe.destroy();
    expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
    await expectNothingLeftOnTunnelHost(lab, fe.prefix);
    expect(fe.stack.filesHoldingKeys([lab.thKey, lab.gwKey])).toEqual([]);
  });
});
