import { fetchFrom, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { yamlLabConfig, type StateResource } from "../support/front-ends";
import { whileUntrustedTries } from "../support/prober";
import { YamlStack } from "../support/yaml-stack";

/**
 * examples/yaml, the YAML quick start, through a real `pulumi up`, `preview`, `refresh` and
 * `destroy` with the plugin installed from its tarball: the trusted client gets in, an untrusted
 * client trying all along never does, a preview after up changes nothing, the keys (given as plain
 * strings read from files) are nowhere in the backend, and destroy leaves nothing on the host.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const PORT = 8491;

test("a YAML GatedTunnel: up, preview, refresh, destroy through the installed plugin", async () => {
  const stack = new YamlStack("it-yaml");
  await stack.installPlugin();
  await stack.init({ ...yamlLabConfig(lab), bindPort: String(PORT), source: lab.trustedCidr });
  let tag = "";
  try {
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port: PORT }], async () => {
      await stack.ok(["up", "--yes", "--skip-preview"]);
      const outputs = JSON.parse(await stack.ok(["stack", "output", "--json"])) as { url: string; ruleTag: string };
      expect(outputs.url).toBe(`http://${lab.thTrusted}:${PORT}/`);
      expect(await fetchFrom(lab.nsTc, outputs.url)).toBeDefined();
      expect(await stack.pulumi(["preview", "--expect-no-changes"])).toMatchObject({ exitCode: 0 });
      await stack.ok(["refresh", "--yes"]);
      expect(await stack.pulumi(["preview", "--expect-no-changes"])).toMatchObject({ exitCode: 0 });

      const exported = JSON.parse(await stack.ok(["stack", "export"])) as { deployment: { resources: StateResource[] } };
      const of = (type: string) => exported.deployment.resources.find((r) => r.type === `shared-tunnel:index:${type}`);
      // The rule pairs with the forward by the forward's own tag prefix (the guard and expiry stop it by that).
      tag = String(of("SharedTunnel")?.outputs?.tag);
      expect(tag.startsWith(String(of("FirewallAllow")?.outputs?.gatesForwardsOf))).toBe(true);
      // Keys given as plain strings: stored nowhere, in state, backups or history.
      expect(stack.filesHoldingKeys([lab.thKey, lab.gwKey])).toEqual([]);
    });
    await stack.ok(["destroy", "--yes"]);
    expect(await fetchFrom(lab.nsTc, `http://${lab.thTrusted}:${PORT}/`)).toBeUndefined();
    await expectNothingLeftOnTunnelHost(lab, tag.replace(/\d+$/, ""));
  } finally {
    await stack.pulumi(["destroy", "--yes"]);
  }
});
