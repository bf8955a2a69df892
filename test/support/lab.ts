import { readFileSync } from "node:fs";
import { LocalRunner } from "../../provider/host/local-runner";
import type { RunResult } from "../../provider/host/runner";
import { waitFor } from "../../provider/state/wait-for";

/** The lab's addresses, keys and namespace names, as `test/lab/lab.sh up` wrote them. */
export interface Lab {
  dir: string;
  nsGw: string;
  nsTh: string;
  nsTc: string;
  nsUc: string;
  gwAddr: string;
  gwUser: string;
  gwNoForwardUser: string;
  gwKey: string;
  gwHostKey: string;
  thSshAddr: string;
  thUser: string;
  thOpUser: string;
  thKey: string;
  thHostKey: string;
  /** An unprivileged user on the tunnel host (no sudo) and its home, which it owns. */
  thMalUser: string;
  thMalHome: string;
  thTrusted: string;
  trustedCidr: string;
  /** IPv6: the tunnel host's trusted address and the trusted clients' range. */
  thTrusted6: string;
  trustedCidr6: string;
  /** The clients' own addresses: the trusted one (in trustedCidr) and the untrusted one. */
  tcAddr: string;
  ucAddr: string;
  /** The tunnel host's own addresses on the untrusted client's link (IPv4, IPv6). */
  thUntrustedSide: string;
  thUntrustedSide6: string;
  targetHost: string;
  targetPort: number;
  /**
   * The connection's jump hosts: a bastion sshd in the tunnel host's namespace (its own host key
   * and account, forwarding only), and the tunnel host's own sshd at addresses the root namespace
   * cannot reach: behind the bastion (loopback) and behind the gateway (hop 2). Its log shows where
   * each connection came from.
   */
  jump: { addr: string; port: number; user: string; key: string; hostKey: string };
  thBehindJump: string;
  thBehindGw: string;
  thSshdLog: string;
}

export function readLab(): Lab {
  const file = `${process.env.PST_LAB_DIR ?? "/tmp/pst-lab"}/lab.env`;
  const env: Record<string, string> = {};
  for (const m of readFileSync(file, "utf8").matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] = unquote(m[2]);
  const need = (k: string) =>
    env[k] ??
    (() => {
      throw new Error(`${file} has no ${k}; is the lab up?`);
    })();
  return {
    dir: need("PST_LAB_DIR"),
    nsGw: need("PST_NS_GW"),
    nsTh: need("PST_NS_TH"),
    nsTc: need("PST_NS_TC"),
    nsUc: need("PST_NS_UC"),
    gwAddr: need("PST_GW_ADDR"),
    gwUser: need("PST_GW_USER"),
    gwNoForwardUser: need("PST_GW_NOFWD_USER"),
    gwKey: need("PST_GW_KEY"),
    gwHostKey: need("PST_GW_HOSTKEY"),
    thSshAddr: need("PST_TH_SSH_ADDR"),
    thUser: need("PST_TH_USER"),
    thOpUser: need("PST_TH_OP_USER"),
    thMalUser: need("PST_TH_MAL_USER"),
    thMalHome: need("PST_TH_MAL_HOME"),
    thKey: need("PST_TH_KEY"),
    thHostKey: need("PST_TH_HOSTKEY"),
    thTrusted: need("PST_TH_TRUSTED_ADDR"),
    trustedCidr: need("PST_TRUSTED_CIDR"),
    thTrusted6: need("PST_TH_TRUSTED_ADDR6"),
    trustedCidr6: need("PST_TRUSTED_CIDR6"),
    tcAddr: need("PST_TC_ADDR"),
    ucAddr: need("PST_UC_ADDR"),
    thUntrustedSide: need("PST_TH_UC_ADDR"),
    thUntrustedSide6: need("PST_TH_UC_ADDR6"),
    targetHost: need("PST_TARGET_HOST"),
    targetPort: Number(need("PST_TARGET_PORT")),
    jump: {
      addr: need("PST_JUMP_ADDR"),
      port: Number(need("PST_JUMP_PORT")),
      user: need("PST_JUMP_USER"),
      key: need("PST_JUMP_KEY"),
      hostKey: need("PST_JUMP_HOSTKEY"),
    },
    thBehindJump: need("PST_TH_BEHIND_JUMP_ADDR"),
    thBehindGw: need("PST_TH_BEHIND_GW_ADDR"),
    thSshdLog: need("PST_TH_SSHD_LOG"),
  };
}

function unquote(v: string): string {
  // lab.env is written with printf %q; the values we read have no escapes beyond quoting spaces.
  if (v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.startsWith("$'")) return v.slice(2, -1);
  return v.replace(/\\(.)/g, "$1");
}

const local = new LocalRunner();

/** Runs argv inside a lab namespace, as a person on that host would. */
export function inNs(ns: string, argv: string[], timeoutMs = 20_000): Promise<RunResult> {
  return local.run(["ip", "netns", "exec", ns, ...argv], { timeoutMs });
}

/**
 * Runs a read-only probe (in `ns`, or on this machine) and returns its stdout, failing loudly when
 * the probe itself failed: a `ufw show added` or `pgrep` that could not run must never read as
 * "nothing there". `answers` are the exit codes that are answers (pgrep's 1 is "no match").
 */
export async function probe(ns: string | undefined, argv: string[], answers: number[] = [0]): Promise<string> {
  const r = await (ns ? inNs(ns, argv) : local.run(argv, { timeoutMs: 20_000 }));
  if (r.exitCode === undefined || !answers.includes(r.exitCode)) {
    throw new Error(
      `probe failed${ns ? ` in ${ns}` : ""}: ${argv.join(" ")} exited ${r.timedOut ? "(timed out)" : r.exitCode}, so it says nothing about what is there:\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/** curl's exits for "did not get in": refused (7), timed out (28, a drop), empty reply (52), reset (56). */
const NOT_REACHED = [7, 28, 52, 56];

/**
 * What a client in `ns` gets from `url`: the body, or undefined when it cannot connect. Any other
 * failure of curl (or of `ip netns exec`) throws: it would otherwise pass for "kept out".
 */
export async function fetchFrom(ns: string, url: string): Promise<string | undefined> {
  const r = await inNs(ns, ["curl", "-sS", "--max-time", "3", url]);
  if (r.exitCode === 0) return r.stdout;
  if (r.exitCode !== undefined && NOT_REACHED.includes(r.exitCode)) return undefined;
  throw new Error(`curl ${url} from ${ns} failed for another reason than not getting in (exit ${r.exitCode}):\n${r.stderr}`);
}

/** ssh processes running anywhere whose argv carries `fragment` (our tags do). */
export async function sshProcessesWith(fragment: string): Promise<string[]> {
  return (await probe(undefined, ["pgrep", "-a", "-x", "ssh"], [0, 1])).split("\n").filter((l) => l.includes(fragment));
}

/** ufw's saved rules on the tunnel host, as text. */
export async function tunnelHostUfwRules(lab: Lab): Promise<string> {
  return probe(lab.nsTh, ["ufw", "show", "added"]);
}

/**
 * Runs `work` while a stand-in listener (answering "open") listens on the tunnel host's trusted
 * address and `port`, where a forward would. Stopped by its own address and port only: other
 * tests' listeners (another lab's, too) are left alone.
 */
export async function withStandInListener<T>(lab: Lab, port: number, work: (url: string) => Promise<T>): Promise<T> {
  const script =
    "setTimeout(() => process.exit(0), 120000); require('http').createServer((q, s) => s.end('open')).listen(+process.argv[2], process.argv[1])";
  const server = inNs(lab.nsTh, [process.execPath, "-e", script, lab.thTrusted, String(port)], 130_000);
  try {
    const up = await waitFor(
      async () => (await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "sport", "=", `:${port}`])).stdout.trim() || undefined,
      10_000,
    );
    if (!up) throw new Error(`the stand-in listener on :${port} never came up`);
    return await work(`http://${lab.thTrusted}:${port}/`);
  } finally {
    await inNs(lab.nsTh, ["pkill", "-f", `listen\\(\\+process.argv\\[2\\].*${lab.thTrusted.replace(/\./g, "\\.")} ${port}$`]);
    await server;
  }
}

/** The gates that need ufw inactive, each with its own port: `firstPort` and the one after it. */
export function ufwlessGatesFrom(firstPort: number) {
  return [
    ["nftables", firstPort],
    ["iptables", firstPort + 1],
  ] as const;
}

/**
 * In the enclosing describe: ufw off on the tunnel host for its tests (the nftables and iptables
 * gates are for hosts that accept by default, and refuse to run beside an active ufw), on again
 * after, as it was. Tests in between may rewrite the host's iptables on purpose (`iptables -F
 * INPUT` is one of the drifts a gate must survive), and `ufw enable` does not put back INPUT's
 * jumps into chains it finds existing: INPUT would keep its DROP policy with nothing in it, and
 * the tunnel host's sshd would be unreachable for every test after. So the filter tables are
 * emptied first (the tests' own leftover checks have run by then) and ufw builds them afresh.
 */
export function withUfwInactive(lab: Lab): void {
  beforeAll(async () => {
    expect((await inNs(lab.nsTh, ["ufw", "--force", "disable"])).exitCode).toBe(0);
  });
  afterAll(async () => {
    for (const bin of ["iptables", "ip6tables"]) {
      for (const flag of ["-F", "-X"]) expect((await inNs(lab.nsTh, [bin, "-w", flag])).exitCode).toBe(0);
    }
    expect((await inNs(lab.nsTh, ["ufw", "--force", "enable"])).exitCode).toBe(0);
    // ufw's own chain is reached again from INPUT: what the failure above looked like from outside.
    expect((await inNs(lab.nsTh, ["iptables", "-w", "-C", "INPUT", "-j", "ufw-before-input"])).exitCode).toBe(0);
  });
}
