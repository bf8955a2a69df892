/**
 * pulumi-shared-tunnel: share an SSH local forward from one tunnel host with trusted machines,
 * behind a host-firewall rule, as Pulumi resources.
 */
export { SharedTunnel, type SharedTunnelArgs } from "./resources/shared-tunnel";
export { FirewallAllow, type FirewallAllowArgs } from "./resources/firewall-allow";
export { GatedTunnel, type GatedTunnelArgs } from "./resources/gated-tunnel";
export type { Connection, ConnectionJumpHost, Gateway } from "./resources/inputs";
export { SharedTunnelError, ValidationError, CommandFailedError, SshConnectError, PreflightError, FirewallError, OwnershipError } from "./errors";
