/**
 * Resources whose names collide but that are different resources, added one step at a time.
 * scenario "same-name": a SharedTunnel "svc" and a FirewallAllow "svc", each with an expiry;
 *   config `first` says which one exists from step 1, the other is added at step 2.
 * scenario "children": components of two types, "left" and "right", each with children "allow"
 *   (a FirewallAllow) and "forward" (a SharedTunnel behind it); "right" is added at step 2.
 * scenario "gated": one GatedTunnel "gated" with an expiry.
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow, GatedTunnel, SharedTunnel } from "pulumi-shared-tunnel";
import { gatewayFromConfig, tunnelHostFromConfig } from "../lab-hosts";

export = async () => {
  const cfg = new pulumi.Config();
  const connection = tunnelHostFromConfig(cfg, cfg.require("tunnelHostUser"));
  const gateway = gatewayFromConfig(cfg);
  const bindAddress = cfg.require("bindAddress");
  const sources = cfg.requireObject<string[]>("sources");
  const backend = cfg.get<"auto" | "ufw" | "nftables" | "iptables">("backend");
  const expiresAfter = "1h";
  const step = cfg.requireNumber("step");
  const forwardOn = (port: number) => ({
    connection,
    gateway,
    bindAddress,
    bindPort: port,
    targetHost: cfg.require("targetHost"),
    targetPort: cfg.requireNumber("targetPort"),
  });

  function tunnel(name: string, port: number, opts?: pulumi.CustomResourceOptions): SharedTunnel {
    return new SharedTunnel(name, { ...forwardOn(port), expiresAfter }, opts);
  }

  function allow(name: string, port: number, opts?: pulumi.CustomResourceOptions): FirewallAllow {
    return new FirewallAllow(name, { connection, port, sources, destination: bindAddress, backend, expiresAfter }, opts);
  }

  const forwardOutputs = (t: SharedTunnel) => pulumi.all([t.pid, t.tag, t.url]).apply(([pid, tag, url]) => ({ pid, tag, url }));

  /** A gate and its forward as the children of a component; only the component's type differs between the two. */
  class Gate extends pulumi.ComponentResource {
    readonly outputs: pulumi.Output<{ ruleTag: string; pid: number; tag: string; url: string }>;
    constructor(type: string, name: string, port: number) {
      super(`identitytest:index:${type}`, name, {}, {});
      const rule = allow("allow", port, { parent: this });
      const forward = tunnel("forward", port, { parent: this, dependsOn: [rule] });
      this.outputs = pulumi.all([rule.ruleTag, forwardOutputs(forward)]).apply(([ruleTag, f]) => ({ ruleTag, ...f }));
      this.registerOutputs({});
    }
  }

  const out: Record<string, pulumi.Output<unknown>> = {};
  const port = cfg.requireNumber("port");
  if (cfg.require("scenario") === "same-name") {
    const first = cfg.require("first");
    if (first === "tunnel" || step >= 2) out.tunnel = forwardOutputs(tunnel("svc", port));
    if (first === "rule" || step >= 2) out.ruleTag = allow("svc", port).ruleTag;
  } else if (cfg.require("scenario") === "gated") {
    const gated = new GatedTunnel("gated", { ...forwardOn(port), sources, expiresAfter });
    out.gated = pulumi.all([gated.ruleTag, forwardOutputs(gated.tunnel)]).apply(([ruleTag, f]) => ({ ruleTag, ...f }));
  } else {
    out.left = new Gate("Left", "left", port).outputs;
    if (step >= 2) out.right = new Gate("Right", "right", port + 1).outputs;
  }
  return out;
};
