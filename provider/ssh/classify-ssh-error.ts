/** What an ssh client's stderr says went wrong, and what a user should do about it. */
export interface SshDiagnosis {
  cause: string;
  hint: string;
}

interface Pattern {
  test: RegExp;
  diagnose: (where: { gateway: string; target: string; listen: string }) => SshDiagnosis;
}

const PATTERNS: Pattern[] = [
  {
    test: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for|No \S+ host key is known/i,
    diagnose: ({ gateway }) => ({
      cause: `the gateway ${gateway} offered a host key that does not match gateway.hostKey`,
      hint: "check you reach the right gateway; if its key really changed, pin the new one (ssh-keyscan it over a trusted path)",
    }),
  },
  {
    test: /Permission denied \(/i,
    diagnose: ({ gateway }) => ({
      cause: `the gateway ${gateway} refused the key`,
      hint: "add the public key to the gateway user's authorized_keys, or check gateway.user and the key",
    }),
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
    diagnose: ({ gateway }) => ({
      cause: `the gateway ${gateway} cannot be reached from the tunnel host`,
      hint: "check gateway.host and gateway.port from the tunnel host, and that sshd runs there",
    }),
  },
];

/** The first known cause in ssh's stderr (the most specific patterns are checked first). */
export function classifySshError(stderr: string, where: { gateway: string; target: string; listen: string }): SshDiagnosis | undefined {
  for (const p of PATTERNS) if (p.test.test(stderr)) return p.diagnose(where);
  return undefined;
}

/**
 * True when the gateway's sshd dropped the connection before the key exchange: what it does past
 * MaxStartups (default 10 unauthenticated connections) when many forwards start at once.
 * Worth another try, unlike every other failure above.
 */
export function isPreAuthDrop(text: string): boolean {
  return /kex_exchange_identification|Connection reset by peer|Connection reset by \S+ port \d+/i.test(text);
}

/** Runs `attempt` again, with backoff, while its output says the gateway dropped us early. */
export async function retryPreAuthDrops<T>(attempt: () => Promise<T>, output: (result: T) => Promise<string>): Promise<T> {
  for (let n = 1; ; n++) {
    const result = await attempt();
    if (n >= 5 || !isPreAuthDrop(await output(result))) return result;
    await new Promise((r) => setTimeout(r, 150 * 2 ** n + Math.random() * 200));
  }
}
