/**
 * Independent judges of "inert": each asks the real consumer of a value (a POSIX shell, bash,
 * ssh's own option parser) what it makes of it, instead of re-reading our validators' rules.
 */
import { spawnSync } from "node:child_process";
import { isIPv4 } from "node:net";
import { quoteArgv } from "../../provider/host/quote";

/**
 * The words a shell makes of quoteArgv(argv). The ssh2 runner hands exactly that string to the
 * remote user's login shell (bash for root in the lab, often dash elsewhere), so both are asked.
 * Words are printed NUL-separated: a newline inside an element must not look like two elements.
 */
export function shellWords(shell: "sh" | "bash", argv: readonly string[]): string[] {
  const r = spawnSync(shell, ["-c", `printf '%s\\0' ${quoteArgv(argv)}`], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${shell} could not parse ${quoteArgv(argv).slice(0, 200)}: ${r.stderr}`);
  return r.stdout.split("\0").slice(0, -1);
}

/**
 * What ssh itself will use, from `ssh -G` (prints the resolved configuration, connects nowhere,
 * runs no ProxyCommand). Our own -f/-N/-E are dropped: they change nothing -G prints.
 * Returns keyword -> every value it printed, or the parse error ssh gave.
 */
export function sshSees(argv: readonly string[]): Map<string, string[]> | string {
  const args = argv.slice(argv.indexOf("ssh") + 1).filter((a, i, all) => !["-f", "-N", "-E"].includes(a) && all[i - 1] !== "-E");
  const r = spawnSync("ssh", ["-G", ...args], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) return r.stderr.trim() || `ssh -G exited ${r.status}`;
  const seen = new Map<string, string[]>();
  for (const line of r.stdout.split("\n")) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) seen.set(m[1], [...(seen.get(m[1]) ?? []), m[2]]);
  }
  return seen;
}

/**
 * True when glibc's inet_aton (which getaddrinfo, hence ssh, ssh2 and sshd's -W, tries before
 * DNS) reads `text` as an IPv4 address: 1 to 4 parts, each decimal, 0-octal or 0x-hex, the last
 * part filling the remaining bytes. Modelled on POSIX inet_addr(3); checked against this
 * machine's resolver in the suite.
 */
export function inetAtonReads(text: string): boolean {
  const parts = text.split(".");
  if (parts.length > 4) return false;
  const values: number[] = [];
  for (const p of parts) {
    const m = /^(?:0[xX]([0-9a-fA-F]*)|(0[0-7]*)|([1-9][0-9]*))$/.exec(p);
    if (!m) return false;
    values.push(m[1] !== undefined ? parseInt(m[1] || "0", 16) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]));
  }
  const last = values.pop() as number;
  return values.every((v) => v <= 255) && last < 2 ** (8 * (4 - values.length));
}

/** A host name a resolver reads as a number but that is not the plain a.b.c.d spelling. */
export function isDisguisedIPv4(text: string): boolean {
  return inetAtonReads(text) && !isIPv4(text);
}

/** Control characters (C0, DEL, C1), line/paragraph separators and bidi overrides: never inert in a log or a terminal. */
export function hasInvisibleOrControl(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/.test(text);
}

/** baseline with the element after each flag replaced: the only argv a payload may produce. */
export function withSlots(baseline: readonly string[], slots: Record<string, string>): string[] {
  const out = [...baseline];
  for (const [flag, value] of Object.entries(slots)) {
    const at = flag.endsWith("=") ? out.findIndex((a) => a.startsWith(flag)) : out.indexOf(flag) + 1;
    if (at <= 0) throw new Error(`baseline argv has no ${flag}`);
    out[at] = flag.endsWith("=") ? flag + value : value;
  }
  return out;
}

/** host:port as ssh -L/-W read it: IPv6 (anything with a colon) in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
