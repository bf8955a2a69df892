import * as pulumi from "@pulumi/pulumi";
import { tunnelClosures } from "../dynamic/closures";
import type { TunnelInputs } from "../types";
import { DYNAMIC_TYPES, ownerOf, secretInput, urnInputs, type Connection, type Gateway, type InputsOf, type SetByResource } from "./inputs";

export interface SharedTunnelArgs extends InputsOf<Omit<TunnelInputs, "connection" | "gateway" | SetByResource>> {
  /** How to reach the tunnel host; omitted = the machine running pulumi. */
  connection?: pulumi.Input<Connection>;
  gateway: pulumi.Input<Gateway>;
}

/**
 * An `ssh -N -L bind:port:target:tport` forward on the tunnel host, run and restarted by a keeper
 * owned by this resource: create starts it and proves the listener belongs to that ssh; refresh
 * tells whether it listens and how often it restarted; destroy stops exactly that keeper and ssh.
 */
export class SharedTunnel extends pulumi.dynamic.Resource {
  /** The ssh process holding the listener (as of create, or the last refresh that found one). */
  declare public readonly pid: pulumi.Output<number>;
  /** The keeper process on the tunnel host that runs and restarts that ssh. */
  declare public readonly keeperPid: pulumi.Output<number>;
  /** False while the keeper backs off with no ssh holding the listener (refresh sets it). */
  declare public readonly listening: pulumi.Output<boolean>;
  /** ssh starts after the first, as of the last refresh. */
  declare public readonly restarts: pulumi.Output<number>;
  /** When the keeper last started ssh again (ISO 8601), as of the last refresh. */
  declare public readonly lastRestartAt: pulumi.Output<string | undefined>;
  /** What ssh logged before its last exit, as of the last refresh. */
  declare public readonly lastError: pulumi.Output<string | undefined>;
  /** As of the last refresh: who else holds its port, or what was wrong with its gate on the host (see TunnelOutputs.drift). */
  declare public readonly drift: pulumi.Output<string | undefined>;
  /** "198.51.100.40:8080" or "[2001:db8::40]:8080". */
  declare public readonly listenAddress: pulumi.Output<string>;
  declare public readonly url: pulumi.Output<string>;
  /** ISO 8601. */
  declare public readonly startedAt: pulumi.Output<string>;
  /** The exact ssh command line (no secrets: keys travel in files). */
  declare public readonly command: pulumi.Output<string>;
  /** ssh's -E log on the tunnel host. */
  declare public readonly logFile: pulumi.Output<string>;
  /** The tag in the process's argv, "pst.<project>.<stack>.<name>.<identity>.<created>" (see docs/state-on-the-host.md, "Identity on the host"). */
  declare public readonly tag: pulumi.Output<string>;
  /** When the tunnel host stops the forward by itself (ISO 8601); undefined without an expiry. */
  declare public readonly expiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: SharedTunnelArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      pid: undefined,
      processStartTicks: undefined,
      keeperPid: undefined,
      keeperStartTicks: undefined,
      listening: undefined,
      restarts: undefined,
      lastRestartAt: undefined,
      lastError: undefined,
      drift: undefined,
      listenAddress: undefined,
      url: undefined,
      startedAt: undefined,
      command: undefined,
      logFile: undefined,
      tag: undefined,
      requestedExpiresAt: undefined,
    };
    // expiresAt is an input and an output (the deadline fixed on the host): its key must always be registered.
    super(
      tunnelClosures,
      name,
      {
        ...args,
        restart: args.restart ?? "always",
        connection: secretInput(args.connection),
        gateway: secretInput(args.gateway),
        owner: ownerOf(pulumi, name),
        ...urnInputs(name, DYNAMIC_TYPES.SharedTunnel, opts),
        ...outputs,
        expiresAt: args.expiresAt,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "gateway", "connection"],
      },
      "pulumi-shared-tunnel",
      "SharedTunnel",
    );
  }
}
