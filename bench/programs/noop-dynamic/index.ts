/** One dynamic resource that does nothing: the benchmark's baseline for a dynamic provider's fixed cost. */
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
  async create() {
    return { id: "noop", outs: {} };
  },
  async delete() {},
};

class Noop extends pulumi.dynamic.Resource {
  constructor(name: string) {
    super(noop, name, {});
  }
}

export = async () => {
  new Noop("noop");
};
