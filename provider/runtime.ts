/**
 * The implementation behind the serialized dynamic providers, loaded by module name
 * ("pulumi-shared-tunnel/runtime") inside each provider method. Keep this surface stable: stacks
 * created by an older version call it from their saved state on refresh and destroy.
 */
import { leaveWithEngine } from "./dynamic/engine/engine-watch";

// Loaded by the first provider call: from then on, this process exits when its engine is gone.
leaveWithEngine();

export { tunnelProvider as tunnel } from "./dynamic/tunnel-provider";
export { firewallProvider as firewall } from "./dynamic/firewall-provider";
