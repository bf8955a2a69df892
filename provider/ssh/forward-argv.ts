import { formatHostPort } from "../validation/net";
import { hopProxyCommand, type JumpChain } from "./hop-config";
import { loginOptions, sshCommand, type SshLogin } from "./login-options";

export interface GatewayEndpoint extends SshLogin {
  /** The jump hosts in front of the gateway, each pinned through its own files (hop-config.ts). */
  jump?: JumpChain;
}

/** What the forward reaches from the gateway: a TCP host and port, or a Unix socket there. */
export type ForwardTarget = { host: string; port: number } | { socket: string };

export interface ForwardSpec {
  gateway: GatewayEndpoint;
  bindAddress: string;
  bindPort: number;
  target: ForwardTarget;
  keepAliveSeconds: number;
  logFile: string;
}

/** "127.0.0.1:8000", or the socket's path: how ssh's -L spells the far end, and how errors name it. */
export function describeTarget(target: ForwardTarget): string {
  return "socket" in target ? target.socket : formatHostPort(target.host, target.port);
}

/**
 * Options that decide who owns the listener and whether ssh may prompt. `-F none` keeps the
 * user's ~/.ssh/config out (a ControlMaster there would hand our forward to a shared master
 * process, and the pid we record would be the wrong one); the rest say it again explicitly.
 * Jump hosts are reached through a ProxyCommand that reads only our own generated config.
 */
function commonOptions(gw: GatewayEndpoint, keepAliveSeconds: number): string[] {
  return [
    "-F",
    "none",
    ...loginOptions(gw, keepAliveSeconds).flatMap(([k, v]) => ["-o", `${k}=${v}`]),
    ...(gw.jump ? ["-o", `ProxyCommand=${hopProxyCommand(gw.jump, gw.jump.hops.length)}`] : []),
    "-p",
    String(gw.port),
    "-l",
    gw.user,
  ];
}

/**
 * `ssh -N -L bind:port:target` in the foreground: the keeper runs it as its child and waits for
 * it. ExitOnForwardFailure makes a listener that cannot be bound an exit, not a half-up forward.
 * The -E log path carries the tag, so the process is findable by argv; VERBOSE adds one line that
 * matters, "Authenticated to ...", by which the keeper tells a run that got through from a failed start.
 */
export function buildForwardArgv(spec: ForwardSpec): string[] {
  const listen = formatHostPort(spec.bindAddress, spec.bindPort);
  return [
    ...sshCommand(spec.gateway),
    "-N",
    "-E",
    spec.logFile,
    ...commonOptions(spec.gateway, spec.keepAliveSeconds),
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "LogLevel=VERBOSE",
    "-L",
    `${listen}:${describeTarget(spec.target)}`,
    "--",
    spec.gateway.host,
  ];
}

/**
 * `ssh -W target:tport` through the gateway: it opens the same kind of channel (direct-tcpip) the
 * forward will, so success proves the gateway is reachable, trusts our key, allows TCP forwarding
 * and that the target answers from the gateway.
 */
export function buildPreflightArgv(gw: GatewayEndpoint, targetHost: string, targetPort: number): string[] {
  return [...sshCommand(gw), ...commonOptions(gw, 5), "-W", formatHostPort(targetHost, targetPort), "--", gw.host];
}

/**
 * For a Unix-socket target (`ssh -W` takes host:port only): `ssh -N -L <local socket>:<socket>`,
 * the local end a socket in the private state directory (nobody else can connect to it, and no
 * TCP port is taken), logging at DEBUG2 so the log says whether the gateway opened the channel.
 */
export function buildSocketProbeArgv(gw: GatewayEndpoint, localSocket: string, socket: string, logFile: string): string[] {
  return [
    ...sshCommand(gw),
    "-N",
    "-E",
    logFile,
    ...commonOptions(gw, 5),
    "-o",
    "LogLevel=DEBUG2",
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "StreamLocalBindUnlink=yes",
    "-o",
    "StreamLocalBindMask=0177",
    "-L",
    `${localSocket}:${socket}`,
    "--",
    gw.host,
  ];
}

/**
 * `sftp -b -` with the same login (pins, credentials, hops), commands on stdin: sftp takes ssh's
 * -o options but not -p/-l, so port and user travel as options and the host as HostName.
 */
export function buildSftpListArgv(gw: GatewayEndpoint): string[] {
  const ssh = sshCommand(gw);
  const options = commonOptions(gw, 5).slice(0, -4);
  return [
    ...ssh.slice(0, -1),
    "sftp",
    "-b",
    "-",
    ...options,
    "-o",
    `Port=${gw.port}`,
    "-o",
    `User=${gw.user}`,
    "-o",
    `HostName=${gw.host}`,
    "--",
    "gateway",
  ];
}

/** A known_hosts line for the pinned key, or (`ca`) the CA that signs the host's certificate; non-standard ports use the [host]:port form. */
export function knownHostsLine(host: string, port: number, hostKey: string, ca = false): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${ca ? "@cert-authority " : ""}${name} ${hostKey}\n`;
}
