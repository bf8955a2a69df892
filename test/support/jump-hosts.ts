import { readFileSync, statSync } from "node:fs";
import type { ConnectionArgs } from "../../provider/types";
import { waitFor } from "../../provider/state/wait-for";
import { probe, type Lab } from "./lab";

/**
 * The lab's ways to the tunnel host through jump hosts (see lab.sh, "the connection's jump
 * hosts"), each hop with its own key: the bastion's, the gateway account's, the tunnel host's.
 */
type Hop = NonNullable<ConnectionArgs["jumpHosts"]>[number];

/** Hop 1: the bastion sshd, reached from this machine. */
export function bastion(lab: Lab): Hop {
  return { host: lab.jump.addr, port: lab.jump.port, user: lab.jump.user, privateKeyPath: lab.jump.key, hostKey: lab.jump.hostKey };
}

/** Hop 2: the gateway's sshd, reached from the bastion. */
export function gatewayHop(lab: Lab): Hop {
  return { host: lab.gwAddr, user: lab.gwUser, privateKeyPath: lab.gwKey, hostKey: lab.gwHostKey };
}

/** The tunnel host as root through the bastion (its sshd on loopback there). */
export function viaBastion(lab: Lab): ConnectionArgs {
  return { host: lab.thBehindJump, user: lab.thUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey, jumpHosts: [bastion(lab)] };
}

/** The tunnel host as root through the bastion, then the gateway (its sshd on the gateway's link). */
export function viaBastionAndGateway(lab: Lab): ConnectionArgs {
  return { host: lab.thBehindGw, user: lab.thUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey, jumpHosts: [bastion(lab), gatewayHop(lab)] };
}

/** What the tunnel host's sshd logs from now on: call the returned function to read it. */
export function thSshdLogFromNow(lab: Lab): () => string {
  const offset = statSync(lab.thSshdLog).size;
  return () => readFileSync(lab.thSshdLog).subarray(offset).toString("utf8");
}

/** TCP sockets on local port `port` inside `ns` in `state` (ss, checked). */
export async function established(ns: string, port: number, state = "established"): Promise<string[]> {
  const out = await probe(ns, ["ss", "-H", "-t", "-n", "state", state, "sport", "=", `:${port}`]);
  return out.split("\n").filter((l) => l.trim() !== "");
}

/** Waits (bounded) until the established connections on `port` in `ns` are back to `count`. */
export async function settlesTo(ns: string, port: number, count: number): Promise<number> {
  let now = -1;
  await waitFor(async () => ((now = (await established(ns, port)).length) <= count ? true : undefined), 10_000);
  return now;
}
