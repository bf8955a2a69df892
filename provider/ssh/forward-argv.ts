import { formatHostPort } from "../validation/net";

export interface GatewayEndpoint {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  /** A script that prints the key's passphrase (gateway.privateKeyPassphrase); none for plain keys. */
  askpassFile?: string;
}

export interface ForwardSpec {
  gateway: GatewayEndpoint;
  bindAddress: string;
  bindPort: number;
  targetHost: string;
  targetPort: number;
  keepAliveSeconds: number;
  logFile: string;
}

/**
 * Options that decide who owns the listener and whether ssh may prompt. `-F none` keeps the
 * user's ~/.ssh/config out (a ControlMaster there would hand our forward to a shared master
 * process, and the pid we record would be the wrong one); the rest say it again explicitly.
 */
function commonOptions(gw: GatewayEndpoint, keepAliveSeconds: number): string[] {
  const o = (kv: string) => ["-o", kv];
  return [
    "-F", "none",
    // BatchMode would also refuse to ask for a key's passphrase; with askpass, every other prompt
    // is still off (no passwords; StrictHostKeyChecking=yes never asks).
    ...(gw.askpassFile ? [...o("BatchMode=no"), ...o("PasswordAuthentication=no"), ...o("KbdInteractiveAuthentication=no")] : o("BatchMode=yes")),
    ...o("ControlMaster=no"),
    ...o("ControlPath=none"),
    ...o("StrictHostKeyChecking=yes"),
    ...o(`UserKnownHostsFile=${gw.knownHostsFile}`),
    ...o("GlobalKnownHostsFile=/dev/null"),
    ...o("CheckHostIP=no"),
    ...o("IdentitiesOnly=yes"),
    ...o("IdentityAgent=none"),
    ...o(`IdentityFile=${gw.identityFile}`),
    ...o("ConnectTimeout=10"),
    ...o(`ServerAliveInterval=${keepAliveSeconds}`),
    ...o("ServerAliveCountMax=3"),
    ...o("ForwardAgent=no"),
    ...o("ForwardX11=no"),
    ...o("PermitLocalCommand=no"),
    "-p", String(gw.port),
    "-l", gw.user,
  ];
}

/**
 * `ssh -N -L bind:port:target:tport` in the foreground: the keeper runs it as its child and waits
 * for it. ExitOnForwardFailure makes a listener that cannot be bound an exit, not a half-up
 * forward. The -E log path carries the tag, so the process is findable by argv; VERBOSE adds one
 * line that matters, "Authenticated to ...", by which the keeper tells a run that got through
 * from a failed start.
 */
export function buildForwardArgv(spec: ForwardSpec): string[] {
  const listen = formatHostPort(spec.bindAddress, spec.bindPort);
  const target = formatHostPort(spec.targetHost, spec.targetPort);
  return [
    ...sshCommand(spec.gateway), "-N",
    "-E", spec.logFile,
    ...commonOptions(spec.gateway, spec.keepAliveSeconds),
    "-o", "ExitOnForwardFailure=yes",
    "-o", "LogLevel=VERBOSE",
    "-L", `${listen}:${target}`,
    "--", spec.gateway.host,
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

/** A known_hosts line for the pinned key; non-standard ports use the [host]:port form. */
export function knownHostsLine(host: string, port: number, hostKey: string): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${hostKey}\n`;
}

/** `ssh`, or `env SSH_ASKPASS=... ssh` when the key needs a passphrase (env execs ssh: same pid). */
function sshCommand(gw: GatewayEndpoint): string[] {
  return gw.askpassFile ? ["env", `SSH_ASKPASS=${gw.askpassFile}`, "SSH_ASKPASS_REQUIRE=force", "ssh"] : ["ssh"];
}
