import { PreflightError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";

/** A user certificate to check, and the input that gave it ("gateway.jumpHosts[1].certificate"). */
export interface CertificateToCheck {
  property: string;
  /** A path on the tunnel host, or (by value) the certificate itself, read from stdin. */
  file?: string;
  content?: string;
}

/** On the tunnel host (where ssh will use it), with the host's own clock: `date +%s`, then `ssh-keygen -L` in UTC. */
const SCRIPT = 'date +%s; TZ=UTC0 ssh-keygen -L -f "$1" 2>&1 || echo "ssh-keygen-failed"';

/**
 * Refuses a certificate that is expired or not yet valid before any connection and before any
 * file is written (an update leaves the running forward's files as they were): the server would
 * only say "Permission denied", which hides why. The error carries the validity window.
 */
export async function checkCertificates(runner: Runner, certs: CertificateToCheck[]): Promise<void> {
  for (const cert of certs) {
    const argv = ["sh", "-c", SCRIPT, "sh", cert.file ?? "-"];
    const result = await runner.run(argv, cert.file === undefined ? { input: cert.content ?? "" } : {});
    const [now, ...listing] = result.stdout.split("\n");
    const reason = certificateProblem(listing.join("\n"), Number(now.trim()));
    if (reason) {
      throw new PreflightError(`${cert.property}: ${reason}`, {
        what: "check the user certificate",
        where: runner.where,
        command: quoteArgv(argv),
        hint: "have the certificate re-signed (ssh-keygen -s CA -V ...) for a window that includes now on the tunnel host, and pass the new one",
      });
    }
  }
}

/** "from 2026-01-01T00:00:00 to 2026-01-02T00:00:00" (UTC), as `ssh-keygen -L` prints it with TZ=UTC0. */
interface Validity {
  from?: number;
  to?: number;
  text: string;
}

/**
 * Why `ssh-keygen -L` output (with the host's clock `now`) shows an unusable certificate, or undefined.
 * @internal exported for its unit tests
 */
export function certificateProblem(listing: string, now: number): string | undefined {
  if (/ssh-keygen-failed/.test(listing) || !/^\s*Type: .*certificate/m.test(listing)) {
    return `is not an OpenSSH certificate ssh-keygen can read: ${listing.trim().split("\n").slice(-1)[0] ?? ""}`;
  }
  const validity = parseValidity(listing);
  if (!validity) return "ssh-keygen -L shows no validity period";
  const window = `valid ${validity.text} UTC; now is ${isoSeconds(now)} UTC on the tunnel host`;
  if (validity.to !== undefined && now >= validity.to) return `the certificate has expired (${window})`;
  if (validity.from !== undefined && now < validity.from) return `the certificate is not valid yet (${window})`;
  return undefined;
}

/**
 * The "Valid:" line: forever, from X to Y, after X, before Y.
 * @internal exported for its unit tests
 */
export function parseValidity(listing: string): Validity | undefined {
  const line = /^\s*Valid: (.*)$/m.exec(listing)?.[1]?.trim();
  if (!line) return undefined;
  if (line === "forever") return { text: line };
  const at = (t: string | undefined) => (t === undefined ? undefined : Date.parse(`${t}Z`) / 1000);
  const range = /^from (\S+) to (\S+)$/.exec(line);
  if (range) return { from: at(range[1]), to: at(range[2]), text: line };
  const after = /^after (\S+)$/.exec(line);
  if (after) return { from: at(after[1]), text: line };
  const before = /^before (\S+)$/.exec(line);
  if (before) return { to: at(before[1]), text: line };
  return undefined;
}

function isoSeconds(unix: number): string {
  return Number.isFinite(unix) ? new Date(unix * 1000).toISOString().replace(/\.000Z$/, "") : "unknown";
}
