import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionArgs, GatewayArgs } from "../types";

/** Every property of T as a pulumi.Input (so other resources' outputs can feed it); docs carry over. */
type InputsOf<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** How the provider reaches the tunnel host; omit it when pulumi runs on the tunnel host itself. */
export type Connection = InputsOf<ConnectionArgs>;

/** The ssh server the forward goes through, as the tunnel host sees it. */
export type Gateway = InputsOf<GatewayArgs>;

/** "project/stack/name": names the tag put on processes and rules. */
export function ownerOf(pulumiModule: typeof pulumi, name: string): string {
  return `${pulumiModule.getProject()}/${pulumiModule.getStack()}/${name}`;
}
