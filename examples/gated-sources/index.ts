/**
 * The GatedTunnel component with several sources, IPv4 and IPv6. A firewall rule matches one IP
 * version (an IPv6 client cannot reach an IPv4 listener), so the sources are split by version: the
 * IPv4 ones gate the forward on `bindAddress`, the IPv6 ones a second forward of the same service
 * on `bindAddress6` (same port). Each GatedTunnel puts in one rule per source under one tag.
 */
import { isIPv6 } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";
import { connectionFromConfig, forwardFromConfig, gatewayFromConfig, sourcesFromConfig } from "../shared/config";

export = async () => {
  const cfg = new pulumi.Config();
  const connection = connectionFromConfig(cfg);
  const gateway = gatewayFromConfig(cfg);
  const forward = forwardFromConfig(cfg);
  const sources = sourcesFromConfig(cfg);
  const v6Sources = sources.filter((s) => isIPv6(s.split("/")[0]));
  const v4Sources = sources.filter((s) => !v6Sources.includes(s));

  const outputs: Record<string, pulumi.Output<unknown>> = {};
  if (v4Sources.length) {
    const v4 = new GatedTunnel("service-v4", { connection, gateway, ...forward, sources: v4Sources });
    Object.assign(outputs, { url: v4.url, ruleTag: v4.ruleTag, tag: v4.tunnel.tag, rules: v4.firewall.rules });
  }
  if (v6Sources.length) {
    const bindAddress = cfg.require("bindAddress6"); // an IPv6 address of the trusted interface
    const v6 = new GatedTunnel("service-v6", { connection, gateway, ...forward, bindAddress, sources: v6Sources });
    Object.assign(outputs, { url6: v6.url, ruleTag6: v6.ruleTag, tag6: v6.tunnel.tag, rules6: v6.firewall.rules });
  }
  return outputs;
};
