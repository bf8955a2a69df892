import { readFile } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { SshConnectError } from "../errors";
import type { RemoteConnection, RemoteLogin } from "./remote-connection";

/**
 * One ssh server on the way to the tunnel host (a jump host, or the tunnel host itself): where it
 * is, its own credentials, and how errors name it ("jump host 2 of 2 (198.18.1.2:22)").
 */
export interface Step {
  endpoint: RemoteLogin;
  /** The input property it came from: "connection" or "connection.jumpHosts[1]". */
  property: string;
  label: string;
  /** "user@host:port". */
  where: string;
}

/** The steps of a connection, nearest first, the tunnel host last. */
export function stepsOf(conn: RemoteConnection): Step[] {
  const hops = conn.jumpHosts ?? [];
  const steps = hops.map((hop, i) => step(hop, `connection.jumpHosts[${i}]`, `jump host ${i + 1} of ${hops.length}`));
  return [...steps, step(conn, "connection", "the tunnel host")];
}

function step(endpoint: RemoteLogin, property: string, name: string): Step {
  const port = endpoint.port ?? 22;
  const label = property === "connection" ? name : `${name} (${endpoint.host}:${port})`;
  return { endpoint, property, label, where: `${endpoint.user}@${endpoint.host}:${port}` };
}

/** The agent socket the steps without a key of their own use, or undefined when none was asked for. */
export function agentPath(conn: RemoteConnection): string | undefined {
  if (conn.agent === undefined) return undefined;
  if (conn.agent !== true) return conn.agent;
  const sock = process.env.SSH_AUTH_SOCK;
  if (sock) return sock;
  throw new SshConnectError("connection.agent is true, but SSH_AUTH_SOCK is not set for the process running pulumi", {
    what: "connect to the tunnel host",
    where: `${conn.user}@${conn.host}:${conn.port ?? 22}`,
    hint: 'start an agent and add the key (eval "$(ssh-agent)"; ssh-add KEY) before running pulumi, or set connection.agent to the agent\'s socket path',
  });
}

/**
 * Connects to one step, over `sock` (a channel forwarded by the step before) or directly. The
 * step authenticates with its own key when it has one, else with the agent: never with another
 * step's key. Its host key must be the pinned one. Handshake and authentication are bounded by
 * `timeoutMs`; agent forwarding is never requested (see docs/gateway.md, "Jump hosts and ssh-agent").
 */
export async function connectStep(s: Step, sock: Duplex | undefined, agent: string | undefined, timeoutMs: number): Promise<Client> {
  const e = s.endpoint;
  const privateKey = e.privateKey ?? (e.privateKeyPath ? await readKey(e.privateKeyPath, s) : undefined);
  const useAgent = privateKey === undefined ? agent : undefined;
  const pinned = e.hostKey.trim().split(/\s+/)[1];
  let offered: string | undefined;
  const config: ConnectConfig = {
    host: e.host,
    port: e.port ?? 22,
    username: e.user,
    privateKey,
    passphrase: e.privateKeyPassphrase,
    agent: useAgent,
    sock,
    readyTimeout: timeoutMs,
    // Compare the raw key blob with the pinned one; a mismatch refuses the connection.
    hostVerifier: (key: Buffer) => {
      offered = key.toString("base64");
      return offered === pinned;
    },
  };
  const client = new Client();
  // Stays attached for the client's life: the first error decides, later ones (a timeout is
  // followed by "connection lost") surface through the channel that hit them, never unhandled.
  let failed: ((err: Error & { level?: string }) => void) | undefined;
  client.on("error", (err: Error & { level?: string }) => failed?.(err));
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    failed = (err) => {
      failed = undefined;
      reject(describeConnectError(err, s, { hostKeyMismatch: offered !== undefined && offered !== pinned, agent: useAgent }));
      client.end();
    };
    // A forwarded channel can close before the handshake without an error: that must not hang.
    client.once("close", () => reject(describeConnectError({ message: "Connection lost before handshake" }, s, {})));
    // Small command lines and window adjusts must not wait for a delayed ACK (Nagle: ~40 ms each).
    client.once("connect", () => client.setNoDelay(true));
    try {
      client.connect(config);
    } catch (err) {
      failed?.(err as Error); // a key ssh2 cannot parse or decrypt is thrown, not emitted
    }
  });
  failed = undefined;
  return client;
}

/** A channel from `from` (connected) to the next step's sshd, bounded by `timeoutMs`. */
export function forwardTo(client: Client, from: Step, to: Step, timeoutMs: number): Promise<ClientChannel> {
  const port = to.endpoint.port ?? 22;
  return new Promise((resolve, reject) => {
    const fail = (message: string) =>
      reject(
        new SshConnectError(message, {
          what: `open a channel from ${from.label} to ${to.label}`,
          where: from.where,
          hint: `check that ${from.endpoint.user} may forward TCP there (sshd's AllowTcpForwarding, PermitOpen) and that it reaches ${to.endpoint.host}:${port}`,
        }),
      );
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000}s`), timeoutMs);
    client.forwardOut("127.0.0.1", 0, to.endpoint.host, port, (err, channel) => {
      clearTimeout(timer);
      if (err) return fail(err.message);
      resolve(channel);
    });
  });
}

async function readKey(path: string, s: Step): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SshConnectError(`cannot read private key file ${path}: ${(e as Error).message}`, {
      what: `connect to ${s.label}`,
      where: s.where,
      hint: `set ${s.property}.privateKeyPath to a readable key file, or pass ${s.property}.privateKey`,
    });
  }
}

function describeConnectError(
  err: { message: string; level?: string },
  s: Step,
  how: { hostKeyMismatch?: boolean; agent?: string },
): SshConnectError {
  const what = `connect to ${s.label}`;
  if (how.hostKeyMismatch) {
    return new SshConnectError(`host key mismatch: the host key it offered does not match ${s.property}.hostKey`, {
      what,
      where: s.where,
      hint: "check you are reaching the right host; if its key really changed, pin the new one (ssh-keyscan it over a trusted path)",
    });
  }
  if (/Cannot parse privateKey/.test(err.message)) {
    return new SshConnectError(
      `cannot use the private key of ${s.property}: ${err.message.replace(/^Cannot parse privateKey: /, "").replace(/passphrase.*$/i, "bad or missing passphrase")}`,
      {
        what,
        where: s.where,
        hint: `check ${s.property}.privateKeyPassphrase is this key's passphrase, and that the key is an OpenSSH, PEM or PuTTY private key`,
      },
    );
  }
  if (err.level === "agent") {
    return new SshConnectError(`the ssh-agent at ${how.agent} could not be used: ${err.message}`, {
      what,
      where: s.where,
      hint: "check the agent is running and connection.agent (or SSH_AUTH_SOCK) names its socket, or give this host a privateKey",
    });
  }
  if (err.level === "client-authentication") {
    return new SshConnectError(how.agent ? `no key in the ssh-agent at ${how.agent} was accepted` : "the key was refused", {
      what,
      where: s.where,
      hint: `add the public key to ${s.endpoint.user}'s authorized_keys there, or check ${s.property}.user`,
    });
  }
  const error = new SshConnectError(err.message.replace(/passphrase.*$/i, "bad or missing passphrase for the private key"), {
    what,
    where: s.where,
    hint: `check ${s.property}.host and port are reachable${s.property === "connection" ? "" : " from the host before it"} and sshd is running`,
  });
  // Dropped before authentication: what sshd does past MaxStartups; worth another try.
  error.transient = /ECONNRESET|Connection lost before handshake|before handshake|socket hang up/i.test(err.message);
  return error;
}
