import { SharedTunnelError } from "../errors";
import { splitByEffect } from "../firewall/gate-drift";
import { openInstalledBackends } from "../firewall/registry";
import type { Runner } from "../host/runner";

/**
 * For a gated forward's refresh: what is wrong with its gate on the host, in words, or undefined
 * when rules carrying the gate's tag are there and hold. The forward's state does not know the
 * rule's backend, so every installed firewall is looked in (the reaper's view). A host whose
 * firewall this user cannot read says nothing either way: no drift is claimed.
 */
export async function gateDrift(runner: Runner, gateTag: string): Promise<string | undefined> {
  const found = [];
  try {
    for (const backend of await openInstalledBackends(runner)) found.push(...(await backend.list()).filter((r) => r.comment === gateTag));
  } catch (err) {
    if (err instanceof SharedTunnelError) return undefined;
    throw err;
  }
  if (found.length === 0)
    return `no rule of its gate ${gateTag} is on the tunnel host: on nftables or iptables the port is open to every source, on ufw closed to all. pulumi up puts the gate back`;
  const { effective, ineffective } = splitByEffect(found);
  if (effective.length === 0) return `its gate ${gateTag} does not hold: ${ineffective.map((r) => r.why).join("; ")}. pulumi up puts it back`;
  return undefined;
}
