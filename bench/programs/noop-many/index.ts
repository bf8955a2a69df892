/**
 * The scale rows' floor: `count` components (as a GatedTunnel is) of two dynamic resources (its
 * rule and its forward) whose provider does nothing but return `padBytes` of outputs, so each
 * resource's checkpointed state is about the size of ours (bench/front-ends-results.json: ~9 KB
 * per forward or rule with the dynamic provider's closure). Up and destroy of this stack are what
 * the engine and the dynamic-provider host cost at N before any host command.
 */
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, unknown>) {
    return { id: "noop", outs: { ...inputs, padding: "x".repeat(Number(inputs.padBytes)) } };
  },
  async delete() {},
};

class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, padBytes: number, opts: pulumi.CustomResourceOptions) {
    super(noop, name, { padBytes }, opts);
  }
}

class Pair extends pulumi.ComponentResource {
  constructor(name: string, padBytes: number) {
    super("bench:index:Pair", name, {}, {});
    const rule = new Noop(`${name}-allow`, padBytes, { parent: this });
    new Noop(`${name}-forward`, padBytes, { parent: this, dependsOn: [rule] });
    this.registerOutputs({});
  }
}

export = async () => {
  const cfg = new pulumi.Config();
  const padBytes = cfg.getNumber("padBytes") ?? 7000;
  for (let i = 0; i < cfg.requireNumber("count"); i++) new Pair(`t${i}`, padBytes);
};
