import { identityOf } from "../tag";

/** The provider plugin's package and type tokens, the same in every language. */
const PACKAGE = "shared-tunnel";
export const PLUGIN_TYPES = {
  SharedTunnel: `${PACKAGE}:index:SharedTunnel`,
  FirewallAllow: `${PACKAGE}:index:FirewallAllow`,
  GatedTunnel: `${PACKAGE}:index:GatedTunnel`,
} as const;

/**
 * What the TypeScript classes compute before registering (see resources/inputs.ts), drawn here
 * from the URN the engine hands the plugin: "project/stack/name", the URN's hash and the URN itself.
 * It is the URN of the type actually registered, so the identity is the one a GatedTunnel's rule
 * names as its forward's prefix.
 */
export function urnOwnership(urn: string): { owner: string; identity: string; progressUrn: string } {
  // urn:pulumi:<stack>::<project>::<parent types$type>::<name>
  const [head = "", project = "", , ...name] = urn.split("::");
  const stack = head.replace(/^urn:pulumi:/, "");
  return { owner: `${project}/${stack}/${name.join("::")}`, identity: identityOf(urn), progressUrn: urn };
}

/** The resource's own type token: the last of the URN's parent$child type chain. */
export function typeOfUrn(urn: string): string {
  return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}
