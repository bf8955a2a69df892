import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "../../../provider/resources/gated-tunnel";
import { SharedTunnelProvider } from "../../../provider/plugin/provider";
import { constructGatedTunnel } from "../../../provider/plugin/resources";
import { ownerPrefix } from "../../../provider/tag";
import { HOST_KEY } from "../key-fixtures";

/*
 * The rule of a GatedTunnel names its forward by the forward's tag prefix (gatesForwardsOf): the
 * guard, the expiry and the rule's delete stop exactly the forwards with that prefix. It must be
 * the prefix the forward really gets, i.e. drawn from the type token the forward registers under,
 * in both front ends.
 */
const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
void pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: () => ({}),
  },
  "proj",
  "dev",
);

const args = {
  gateway: { host: "198.18.1.2", user: "tunnel", privateKeyPath: "/k", hostKey: HOST_KEY },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  sources: ["198.51.100.0/24"],
};

const resolve = <T>(output: pulumi.Output<T>) => new Promise<T>((ok) => output.apply(ok));
const inputsOf = async (type: string, name: string) => {
  await new Promise((ok) => setTimeout(ok, 50));
  return registered.find((r) => r.type === type && r.name === name)?.inputs ?? {};
};

test("TypeScript classes: the rule names the prefix of the forward's own URN", async () => {
  const gated = new GatedTunnel("svc", args);
  const urn = await resolve(gated.tunnel.urn);
  const rule = await inputsOf("pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow", "svc-allow");
  const forward = await inputsOf("pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel", "svc-forward");
  expect(urn).toContain("pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel::svc-forward");
  expect(rule.gatesForwardsOf).toBe(ownerPrefix({ owner: forward.owner as string, identity: forward.identity as string }));
});

test("provider plugin: the rule names the prefix the plugin gives the forward registered under its token", async () => {
  const { urn } = constructGatedTunnel("pl", args, {});
  const componentUrn = await resolve(pulumi.output(urn));
  // The URN the engine gives the child: the component's type chain, then the child's own token.
  const [head, project, componentType] = componentUrn.split("::");
  const forwardUrn = `${head}::${project}::${componentType}$shared-tunnel:index:SharedTunnel::pl-forward`;
  const rule = await inputsOf("shared-tunnel:index:FirewallAllow", "pl-allow");
  const checked = await new SharedTunnelProvider("0.0.0", "{}").check(forwardUrn, {}, { ...args, gateTag: "g" });
  expect(checked.failures).toEqual([]);
  expect(rule.gatesForwardsOf).toBe(ownerPrefix({ owner: checked.inputs.owner as string, identity: checked.inputs.identity as string }));
});
