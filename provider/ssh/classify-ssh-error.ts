import { retry } from "../retry";

/** What an ssh client's stderr says went wrong, and what a user should do about it. */
export interface SshDiagnosis {
  cause: string;
  hint: string;
}

/** Where the failing ssh was going: the gateway (default), or one of its jump hosts. */
export interface SshWhere {
  gateway: string;
  target: string;
  listen: string;
  /** The forward's far end is a Unix socket (its refusals read differently). */
  socketTarget?: boolean;
  /** The server this ssh logged in to, when not the gateway: "the jump host gateway.jumpHosts[1] (198.18.8.2:22)". */
  server?: { name: string; property: string; next: string };
}

interface Pattern {
  test: RegExp;
  /** Undefined: not this pattern's case after all (a hop's "open failed" is about the next hop). */
  diagnose: (where: Required<Omit<SshWhere, "socketTarget">> & { socketTarget: boolean; isHop: boolean }) => SshDiagnosis | undefined;
}

const PATTERNS: Pattern[] = [
  {
    test: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for|No \S+ host key is known|Certificate invalid/i,
    diagnose: ({ server }) => ({
      cause: `${server.name} offered a host key that does not match ${server.property}.hostKey (or a certificate not signed by ${server.property}.hostCertificateAuthority)`,
      hint: "check you reach the right host; if its key really changed, pin the new one (ssh-keyscan it over a trusted path)",
    }),
  },
  {
    test: /Permission denied \(/i,
    diagnose: ({ server }) => ({
      cause: `${server.name} refused the key`,
      hint: `add the public key to ${server.property}.user's authorized_keys there (or trust the certificate's CA), or check ${server.property}.user and the key, certificate or agent`,
    }),
  },
  {
    // A hop refusing to open the channel onwards: the next hop (or the gateway) is the problem.
    test: /open failed: (administratively prohibited|connect failed)/i,
    diagnose: ({ server, isHop }) =>
      isHop
        ? {
            cause: `${server.name} could not open a connection to ${server.next} (forwarding refused there, or ${server.next} does not answer from it)`,
            hint: `check ${server.next} is reachable from that jump host and that it allows TCP forwarding (AllowTcpForwarding) for ${server.property}.user`,
          }
        : undefined,
  },
  {
    test: /open failed: connect failed: open failed/i,
    diagnose: ({ gateway, target, socketTarget }) =>
      socketTarget
        ? {
            cause: `the gateway ${gateway} did not connect to the socket ${target}: it is missing or not listening there, or AllowStreamLocalForwarding is off for this user`,
            hint: "check targetSocket as seen on the gateway (and that the gateway user may connect to it), and AllowStreamLocalForwarding yes (or local) in the gateway's sshd_config",
          }
        : undefined,
  },
  {
    test: /administratively prohibited/i,
    diagnose: ({ gateway }) => ({
      cause: `AllowTcpForwarding is off for this user on the gateway ${gateway}`,
      hint: "set AllowTcpForwarding yes (or local) in the gateway's sshd_config for this user (GatewayPorts does not matter for -L)",
    }),
  },
  {
    test: /open failed: connect failed/i,
    diagnose: ({ target }) => ({
      cause: `the target ${target} does not answer from the gateway`,
      hint: "check targetHost/targetPort as seen from the gateway, and that the service there is running",
    }),
  },
  {
    test: /Address already in use/i,
    diagnose: ({ listen }) => ({
      cause: `${listen} is already in use on the tunnel host`,
      hint: "stop whatever listens there (ss -tlnp shows it) or pick another bindPort",
    }),
  },
  {
    test: /Cannot assign requested address/i,
    diagnose: ({ listen }) => ({
      cause: `the bind address of ${listen} is not an address of the tunnel host`,
      hint: "use an address the tunnel host has (ip -br addr shows them)",
    }),
  },
  {
    test: /Could not resolve hostname|Connection timed out|No route to host|Network is unreachable|Connection refused|Connection closed by|Connection reset/i,
    diagnose: ({ server }) => ({
      cause: `${server.name} cannot be reached`,
      hint: `check ${server.property}.host and ${server.property}.port (from the tunnel host, or from the jump host before it), and that sshd runs there`,
    }),
  },
];

/** The first known cause in ssh's stderr (the most specific patterns are checked first). */
export function classifySshError(stderr: string, where: SshWhere): SshDiagnosis | undefined {
  const server = where.server ?? { name: `the gateway ${where.gateway}`, property: "gateway", next: where.target };
  const full = { ...where, server, socketTarget: where.socketTarget === true, isHop: where.server !== undefined };
  for (const p of PATTERNS) {
    if (!p.test.test(stderr)) continue;
    const diagnosis = p.diagnose(full);
    if (diagnosis) return diagnosis;
  }
  return undefined;
}

/**
 * True when the gateway's sshd dropped the connection before the key exchange: what it does past
 * MaxStartups (default 10 unauthenticated connections) when many forwards start at once.
 * Worth another try, unlike every other failure above.
 * @internal exported for its unit tests
 */
export function isPreAuthDrop(text: string): boolean {
  return /kex_exchange_identification|Connection reset by peer|Connection reset by \S+ port \d+/i.test(text);
}

/** Runs `attempt` again, with backoff, while its output says the gateway dropped us early. */
export async function retryPreAuthDrops<T>(attempt: () => Promise<T>, output: (result: T) => Promise<string>): Promise<T> {
  return retry(attempt, {
    attempts: 5,
    delayMs: (n) => 150 * 2 ** n + Math.random() * 200,
    retryResult: async (result) => isPreAuthDrop(await output(result)),
  });
}
