import * as pulumi from "@pulumi/pulumi";
import { identityOf } from "../tag";
import type { ConnectionArgs, GatewayArgs } from "../types";

/**
 * Every property of T as a pulumi.Input (so other resources' outputs can feed it), and each item
 * of a list property too (a list may mix outputs and plain values); docs carry over.
 */
export type InputsOf<T> = { [K in keyof T]: pulumi.Input<T[K] extends readonly (infer Item)[] ? pulumi.Input<Item>[] : T[K]> };

/** Inputs the resource classes fill in themselves: never part of the public *Args. */
export type SetByResource = "owner" | "identity" | "progressUrn";

/** One bastion in front of the tunnel host; each field may be an output (a key from a secret). */
export type ConnectionJumpHost = InputsOf<NonNullable<ConnectionArgs["jumpHosts"]>[number]>;

/** How the provider reaches the tunnel host; omit it when pulumi runs on the tunnel host itself. */
export type Connection = InputsOf<Omit<ConnectionArgs, "jumpHosts">> & {
  /** Bastions between the machine running pulumi and the tunnel host, nearest first; each pinned, each with its own key. */
  jumpHosts?: pulumi.Input<pulumi.Input<ConnectionJumpHost>[]>;
};

/** The ssh server the forward goes through, as the tunnel host sees it. */
export type Gateway = InputsOf<GatewayArgs>;

/**
 * An input that carries keys or passphrases, marked secret. additionalSecretOutputs hides such a
 * property in the resource's outputs only: the state also keeps the inputs, where a key given as a
 * plain string (`fs.readFileSync(...)`) would otherwise be stored in plaintext.
 */
export function secretInput<T>(value: pulumi.Input<T> | undefined): pulumi.Output<pulumi.Unwrap<T>> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}

/** "project/stack/name": names the tag put on processes and rules. */
export function ownerOf(pulumiModule: typeof pulumi, name: string): string {
  return `${pulumiModule.getProject()}/${pulumiModule.getStack()}/${name}`;
}

/** The type tokens the TypeScript classes register under (a resource's identity hashes its URN, so they never change). */
export const DYNAMIC_TYPES = {
  SharedTunnel: "pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel",
  FirewallAllow: "pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow",
} as const;

/**
 * Inputs drawn from the URN the engine gives a resource of ours (a dynamic provider is not told
 * which resource it works on): `progressUrn`, the row its progress lines go to, and `identity`,
 * the hash of it that makes the resource's tags on the host its own. Known before create, so a
 * create killed half-way leaves things the next create recognises as its own. `type` must be the
 * token the resource really registers under, or the identity names a URN no resource has.
 */
export function urnInputs(
  name: string,
  type: string,
  opts?: pulumi.CustomResourceOptions,
): { progressUrn: pulumi.Output<string>; identity: pulumi.Output<string> } {
  const urn = pulumi.createUrn(name, type, opts?.parent);
  // Only the string: createUrn's output depends on the parent, and an input depending on a
  // component makes the SDK wait for all of its children, this resource among them (a deadlock).
  const plain = pulumi.output(new Promise<string>((resolve) => urn.apply(resolve)));
  return { progressUrn: plain, identity: plain.apply(identityOf) };
}
