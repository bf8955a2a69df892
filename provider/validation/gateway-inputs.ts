import type { GatewayArgs, JumpHostArgs, TunnelInputs } from "../types";
import { Failures, hostKeyReason, isUnknown } from "./fields";

/** At most this many jump hosts per gateway: every hop's files have fixed names (tunnel/tunnel-files.ts lists them). */
export const MAX_JUMP_HOSTS = 4;

/** "ssh-ed25519-cert-v01@openssh.com AAAA... [comment]": one line, as ssh-keygen -s writes it. */
const CERTIFICATE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,2}( [^\0\r\n]*)?\n?$/;
/** A Unix socket path as the forward's -L spec carries it: no ':' (the spec's separator), brackets, whitespace or quotes (sftp's batch line); sun_path's length. */
const SOCKET_PATH = /^\/[^\s:[\]\0"'\\]{0,103}$/;

/** The gateway and each of its jump hosts: every failure names its property ("gateway.jumpHosts[1].hostKey"). */
export function checkGateway(f: Failures, g: GatewayArgs | undefined): void {
  if (isUnknown(g)) return;
  if (g === undefined || g === null || typeof g !== "object") return f.add("gateway", "is required");
  checkLogin(f, "gateway", g, "the tunnel host itself");
  const hops = g.jumpHosts;
  if (hops === undefined || isUnknown(hops)) return;
  if (!Array.isArray(hops)) return f.add("gateway.jumpHosts", "must be a list of jump hosts, tunnel host's side first");
  if (hops.length > MAX_JUMP_HOSTS) f.add("gateway.jumpHosts", `at most ${MAX_JUMP_HOSTS} jump hosts, got ${hops.length}`);
  hops.forEach((hop, i) => {
    const p = `gateway.jumpHosts[${i}]`;
    if (isUnknown(hop)) return;
    if (hop === null || typeof hop !== "object") return f.add(p, "must be a jump host ({ host, user, hostKey, ... })");
    checkLogin(f, p, hop, i === 0 ? "the tunnel host itself" : "the jump host before it");
  });
}

/** One OpenSSH login: where, who, which pin (key or CA: exactly one) and which credentials. */
function checkLogin(f: Failures, p: string, g: JumpHostArgs, self: string): void {
  f.host(`${p}.host`, g.host, self);
  f.port(`${p}.port`, g.port, false);
  f.user(`${p}.user`, g.user);
  checkPin(f, p, g);
  f.sshConfigPath(`${p}.privateKeyPath`, g.privateKeyPath);
  f.sshConfigPath(`${p}.agentSocket`, g.agentSocket);
  if (g.privateKey !== undefined && g.privateKeyPath !== undefined) f.add(p, "set privateKey or privateKeyPath, not both");
  if (g.privateKey === undefined && g.privateKeyPath === undefined && g.agentSocket === undefined) {
    f.add(p, "needs privateKey, privateKeyPath or agentSocket (an ssh-agent on the tunnel host)");
  }
  if (g.privateKeyPassphrase !== undefined && g.privateKey === undefined && g.privateKeyPath === undefined) {
    f.add(`${p}.privateKeyPassphrase`, "is for privateKey or privateKeyPath, and neither is set");
  }
  if (typeof g.privateKeyPassphrase === "string" && /[\0\n\r]/.test(g.privateKeyPassphrase)) {
    f.add(`${p}.privateKeyPassphrase`, "must not contain newlines or NUL bytes (the value itself is not shown)");
  }
  if (typeof g.privateKey === "string" && !isUnknown(g.privateKey) && !g.privateKey.includes("PRIVATE KEY-----")) {
    f.add(`${p}.privateKey`, "is not a PEM/OpenSSH private key (the value itself is not shown)");
  }
  checkCertificate(f, `${p}.certificate`, g.certificate);
}

/** Exactly one of hostKey and hostCertificateAuthority: both or neither names the property. */
function checkPin(f: Failures, p: string, g: JumpHostArgs): void {
  const key = g.hostKey;
  const ca = g.hostCertificateAuthority;
  if (key !== undefined && ca !== undefined) {
    return f.add(
      `${p}.hostCertificateAuthority`,
      "set hostKey (the pinned key) or hostCertificateAuthority (the CA signing its host certificate), not both",
    );
  }
  if (key === undefined && ca === undefined)
    return f.add(`${p}.hostKey`, "is required (or hostCertificateAuthority, the CA that signs its host certificate)");
  if (ca !== undefined) {
    if (!isUnknown(ca) && (typeof ca !== "string" || hostKeyReason(ca) !== undefined))
      f.add(`${p}.hostCertificateAuthority`, `must be the CA's public key line: ${hostKeyReason(String(ca)) ?? "not a string"}`);
    return;
  }
  f.hostKey(`${p}.hostKey`, key);
}

/** A certificate by value (one line) or as an absolute path on the tunnel host. */
function checkCertificate(f: Failures, property: string, value: unknown): void {
  if (value === undefined || isUnknown(value)) return;
  if (typeof value !== "string") return f.add(property, "must be an OpenSSH certificate line or a path to one on the tunnel host");
  if (value.startsWith("/")) return f.sshConfigPath(property, value);
  if (!CERTIFICATE.test(value.trim() + "\n"))
    f.add(property, 'is neither an OpenSSH user certificate ("ssh-ed25519-cert-v01@openssh.com AAAA...") nor an absolute path');
}

/** targetSocket, or targetHost and targetPort: one of the two. */
export function checkTarget(f: Failures, inputs: Partial<TunnelInputs>): void {
  const { targetSocket, targetHost, targetPort } = inputs;
  if (targetSocket === undefined) {
    f.host("targetHost", targetHost, "the gateway itself");
    f.port("targetPort", targetPort);
    return;
  }
  if (targetHost !== undefined || targetPort !== undefined) f.add("targetSocket", "set targetSocket or targetHost/targetPort, not both");
  if (isUnknown(targetSocket)) return;
  if (typeof targetSocket !== "string" || !SOCKET_PATH.test(targetSocket)) {
    f.add(
      "targetSocket",
      "must be an absolute path of at most 104 characters, without whitespace, quotes, backslashes, ':' or brackets (ssh's -L spec splits on ':')",
    );
  } else if (/[%$]/.test(targetSocket)) {
    // OpenSSH expands %-tokens and ${VAR} in a -L socket path: the forward would reach another socket than the one declared.
    f.add(
      "targetSocket",
      `must not contain '%' or '$': ssh expands %-tokens and \${VAR} in a socket path, so the forward would reach another socket`,
    );
  }
}
