import type { ConnectionArgs } from "../types";
import { Failures, isUnknown } from "./fields";

/** Jump hosts in front of the tunnel host: more than this is a mistake, not a network. */
const MAX_JUMP_HOSTS = 8;

/**
 * Inputs of the gateway side that ssh2 (the provider's own connection) cannot honour: it has no
 * user certificates (not even from an agent) and no certificate host keys, and agentSocket names a
 * socket on the tunnel host, which the provider's connection never uses.
 */
const GATEWAY_ONLY: Record<string, string> = {
  certificate:
    "ssh2, which makes the provider's connection, cannot authenticate with certificates; use a plain key (or connection.agent) here, and certificates on the gateway side (gateway.certificate)",
  hostCertificateAuthority:
    "ssh2, which makes the provider's connection, cannot check host certificates; pin the host's plain key with hostKey (ssh-keyscan it over a trusted path)",
  agentSocket:
    "names an agent socket on the tunnel host, which only the gateway side uses (gateway.agentSocket); for the provider's own connection use connection.agent",
};

/** How the provider reaches the tunnel host, with its jump hosts; no I/O. */
export function checkConnection(f: Failures, c: ConnectionArgs | undefined): void {
  if (c === undefined || isUnknown(c)) return;
  checkEndpoint(f, "connection", c, "the machine running pulumi (or omit connection)");
  f.positiveInt("connection.connectTimeoutSeconds", c.connectTimeoutSeconds, 600);
  f.boolean("connection.sudo", c.sudo);
  checkAgent(f, c.agent);
  if (c.privateKey === undefined && c.privateKeyPath === undefined && c.agent === undefined) {
    f.add("connection", "needs privateKey, privateKeyPath or agent");
  }
  checkJumpHosts(f, c.jumpHosts, c.agent !== undefined);
}

function checkJumpHosts(f: Failures, hops: unknown, hasAgent: boolean): void {
  if (hops === undefined || isUnknown(hops)) return;
  if (!Array.isArray(hops)) return f.add("connection.jumpHosts", "must be a list of jump hosts, nearest first");
  if (hops.length > MAX_JUMP_HOSTS) f.add("connection.jumpHosts", `at most ${MAX_JUMP_HOSTS} jump hosts, got ${hops.length}`);
  hops.forEach((hop: unknown, i) => {
    const property = `connection.jumpHosts[${i}]`;
    if (isUnknown(hop)) return;
    if (hop === null || typeof hop !== "object" || Array.isArray(hop)) return f.add(property, "must be a jump host ({ host, user, hostKey, ... })");
    const h = hop as Record<string, unknown>;
    checkEndpoint(f, property, h, "the host before it");
    if (h.privateKey !== undefined && h.privateKeyPath !== undefined) f.add(property, "set privateKey or privateKeyPath, not both");
    // Each hop has its own credentials: it never borrows the tunnel host's (or another hop's) key.
    if (h.privateKey === undefined && h.privateKeyPath === undefined && !hasAgent) {
      f.add(property, "needs its own privateKey or privateKeyPath (keys are never shared between hops), or connection.agent");
    }
  });
}

/** What the connection and each of its hops share: address, login, pinned key, key inputs. */
function checkEndpoint(f: Failures, property: string, e: Record<string, unknown> | ConnectionArgs, self: string): void {
  const v = e as Record<string, unknown>;
  f.host(`${property}.host`, v.host, self);
  f.port(`${property}.port`, v.port, false);
  f.user(`${property}.user`, v.user);
  f.hostKey(`${property}.hostKey`, v.hostKey);
  f.path(`${property}.privateKeyPath`, v.privateKeyPath);
  if (
    v.privateKey !== undefined &&
    !isUnknown(v.privateKey) &&
    (typeof v.privateKey !== "string" || !/PRIVATE KEY-----|^PuTTY-User-Key-File/m.test(v.privateKey))
  ) {
    f.add(
      `${property}.privateKey`,
      "is not a PEM, OpenSSH or PuTTY private key (the value itself is not shown); a key file's path goes in privateKeyPath",
    );
  }
  if (v.privateKeyPassphrase !== undefined && !isUnknown(v.privateKeyPassphrase) && typeof v.privateKeyPassphrase !== "string") {
    f.add(`${property}.privateKeyPassphrase`, "must be a string (the value itself is not shown)");
  }
  for (const [name, why] of Object.entries(GATEWAY_ONLY)) {
    if (v[name] !== undefined) f.add(`${property}.${name}`, `is not supported here: ${why}`);
  }
}

function checkAgent(f: Failures, agent: unknown): void {
  if (agent === undefined || agent === true || isUnknown(agent)) return;
  const before = f.list.length;
  f.path("connection.agent", agent);
  if (f.list.length > before) f.list[f.list.length - 1].reason = "must be the agent's socket path (absolute), or true for SSH_AUTH_SOCK";
}
