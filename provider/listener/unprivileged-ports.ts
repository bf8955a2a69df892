import type { Runner } from "../host/runner";
import { recentlyShared } from "../recently-shared";

const SYSCTL = "net.ipv4.ip_unprivileged_port_start";
/** Per network namespace: read by a command running in the tunnel host's own, as every command of ours does. */
const FILE = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
/** Kernels before 4.11 have no such setting: below 1024 was root's, fixed. */
const FIXED = 1024;

/** A host's setting, read at most once a minute: it only says whether a warning is due, and 50 creates each read it. */
const recent = recentlyShared<number>(60_000);

/** The tunnel host's ip_unprivileged_port_start: ports at or above it any local user may bind (IPv4 and IPv6 alike). */
export function readUnprivilegedPortStart(runner: Runner): Promise<number> {
  return recent(runner.where, async () => {
    const r = await runner.run(["cat", FILE]);
    const value = r.exitCode === 0 ? r.stdout.trim() : "";
    return /^\d+$/.test(value) ? Number(value) : FIXED;
  });
}

/**
 * For create and refresh: a warning when any local user of the tunnel host may bind `port`. Whoever
 * holds it while the keeper restarts ssh (ssh then fails on ExitOnForwardFailure and backs off) gets
 * the trusted clients' connections: the gate admits them to the port, not to a process. Undefined
 * when only root (or CAP_NET_BIND_SERVICE) may bind it, the one prevention that holds.
 */
export function unprivilegedPortWarning(port: number, start: number): string | undefined {
  if (port < start) return undefined;
  const below = start > 1 ? `choose a bindPort below ${start} (the forward then needs root: connect as root or with sudo), or ` : "";
  return (
    `port ${port} is at or above the tunnel host's ${SYSCTL} (${start}): any local user there may bind it while the keeper ` +
    `restarts ssh, and would then receive the trusted clients' connections (refresh names them as drift). To prevent it, ` +
    `${below}on the tunnel host run sysctl -w ${SYSCTL}=${port + 1} (in its network namespace; keep it in /etc/sysctl.d), ` +
    `which reserves every port below ${port + 1} for root`
  );
}
