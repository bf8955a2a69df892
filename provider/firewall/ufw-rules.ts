import type { FirewallRule } from "../types";
import { coversEverything, formatCidr, parseCidr, sameRange } from "../validation/net";
import { sameRule, type ObservedRule } from "./backend";

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

/**
 * The destination as ufw takes it: a /0 ("any destination of the source's family") is ufw's
 * `to any`, which it saves and applies for the source's family only, the same rule as no destination.
 * A bare 0.0.0.0 stays the single host ufw makes of it (`-d 0.0.0.0/32`).
 */
export function ufwDestination(destination: string | undefined): string | undefined {
  const parsed = destination === undefined ? undefined : parseCidr(destination);
  return parsed !== undefined && typeof parsed !== "string" && coversEverything(parsed) ? undefined : destination;
}

/** Same rule for ufw: "to any" and "to 0.0.0.0/0" are one rule there. */
export function sameUfwRule(a: FirewallRule, b: FirewallRule): boolean {
  return sameRule({ ...a, destination: ufwDestination(a.destination) }, { ...b, destination: ufwDestination(b.destination) }, sameRange);
}

/** argv for `ufw allow`/`ufw delete allow` of one rule; the comment (our tag) only on add. */
export function buildUfwRuleArgv(verb: "allow" | "delete", rule: FirewallRule, tag?: string): string[] {
  const head = verb === "allow" ? ["ufw", "allow"] : ["ufw", "delete", "allow"];
  return [
    ...head,
    "proto",
    rule.protocol,
    "from",
    rule.source,
    "to",
    ufwDestination(rule.destination) ?? "any",
    "port",
    String(rule.port),
    ...(tag ? ["comment", tag] : []),
  ];
}

/** The expiry watchdog's steps that remove our ufw rules (watchdog.sh runs them; no Node on the host). */
export function buildUfwRemovalSteps(rules: FirewallRule[], tag: string): string[][] {
  return rules.map((r) => buildUfwRemovalStep(r, tag));
}

/**
 * ufw keeps one copy of identical rules and rewrites its comment when someone adds the same rule,
 * so a rule is deleted only while ufw's saved copy still carries our comment (hex in user.rules):
 * watchdog.sh's ufw_delete_if_tagged, given the rule's protocol, port, the comment, every spelling
 * of its source, and the delete.
 */
function buildUfwRemovalStep(rule: FirewallRule, tag: string): string[] {
  const hex = Buffer.from(tag, "utf8").toString("hex");
  const parsed = parseCidr(rule.source);
  const spellings = new Set([rule.source, ...(typeof parsed === "string" ? [] : [formatCidr(parsed), parsed.address.toString()])]);
  const sources = [...spellings].flatMap((s) => (s.includes("/") ? [s] : [s, `${s}/32`, `${s}/128`])).join(" ");
  return ["ufw_delete_if_tagged", rule.protocol, String(rule.port), hex, sources, ...buildUfwRuleArgv("delete", rule)];
}
