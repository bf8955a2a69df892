import type { FirewallRule } from "../types";
import type { ObservedRule } from "./backend";

/**
 * Parses ufw's saved rules (/etc/ufw/user.rules and user6.rules), the persisted truth. A line:
 *   ### tuple ### allow tcp 8080 198.51.100.40 any 198.51.100.0/24 in comment=707374...
 * fields: action proto dport dst sport src direction [comment=hex]. Only simple
 * "allow in" rules on one port are ours to read; everything else is skipped.
 */
export function parseUfwUserRules(text: string): ObservedRule[] {
  const rules: ObservedRule[] = [];
  for (const line of text.split("\n")) {
    const m = /^### tuple ### (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)(?: comment=([0-9a-fA-F]*))?\s*$/.exec(line);
    if (!m) continue;
    const [, action, proto, dport, dst, , src, direction, hex] = m;
    if (action !== "allow" || direction !== "in" || !/^\d+$/.test(dport) || (proto !== "tcp" && proto !== "udp")) continue;
    rules.push({
      source: src === "any" ? "any" : src,
      // ufw saves "to any" as the family's whole range.
      destination: ["any", "0.0.0.0/0", "::/0"].includes(dst) ? undefined : stripHostPrefix(dst),
      port: Number(dport),
      protocol: proto,
      comment: hex ? Buffer.from(hex, "hex").toString("utf8") : "",
    });
  }
  return rules;
}

function stripHostPrefix(address: string): string {
  return address.replace(/\/(32|128)$/, "");
}

/** argv for `ufw allow`/`ufw delete allow` of one rule; the comment (our tag) only on add. */
export function buildUfwRuleArgv(verb: "allow" | "delete", rule: FirewallRule, tag?: string): string[] {
  const head = verb === "allow" ? ["ufw", "allow"] : ["ufw", "delete", "allow"];
  return [
    ...head,
    "proto", rule.protocol,
    "from", rule.source,
    "to", rule.destination ?? "any",
    "port", String(rule.port),
    ...(tag ? ["comment", tag] : []),
  ];
}
