import { PreflightError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { reportProgress } from "../progress";
import { formatHostPort } from "../validation/net";
import type { SshDiagnosis } from "./classify-ssh-error";
import { clearHopLogs, diagnoseThroughHops } from "./diagnose-hops";
import { buildSocketProbeArgv, type GatewayEndpoint } from "./forward-argv";

/**
 * `ssh -W` takes host:port only, so a Unix-socket target is proved another way, with nothing on
 * the gateway beyond sshd: a short-lived `ssh -N -L <private local socket>:<target socket>` (the
 * local end in the state directory, 0600: no TCP port, nobody else can connect), one connection to
 * it that sends nothing and closes, and ssh's own DEBUG2 log saying whether the gateway opened the
 * channel. It costs one more login to the gateway (through the same hops) and a connection the
 * service sees open and close; the connecting client is perl (Essential on Debian and Ubuntu) or
 * python3 on the tunnel host.
 */
const PROBE = `log=$1 sock=$2; shift 2
rm -f -- "$log" "$sock"
"$@" & pid=$!
i=0
while [ ! -S "$sock" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; echo "probe: ssh exited $?"; cat -- "$log" 2>/dev/null; exit 0; fi
  i=$((i + 1)); if [ "$i" -ge 300 ]; then kill "$pid"; wait "$pid"; echo "probe: timed out"; cat -- "$log"; exit 0; fi
  sleep 0.1
done
if command -v perl >/dev/null 2>&1; then perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 3' "$sock"
elif command -v python3 >/dev/null 2>&1; then python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$sock"
else kill "$pid"; wait "$pid"; rm -f -- "$sock"; echo "probe: no client"; exit 0; fi
i=0
until grep -qE 'channel [0-9]+: open (confirm|failed)' "$log" || [ "$i" -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
kill "$pid"; wait "$pid"
rm -f -- "$sock"
echo "probe: done"; cat -- "$log"; rm -f -- "$log"`;

/** Proves the Unix socket `socket` on the gateway accepts a connection forwarded the way the forward's will be. */
export async function checkSocketPath(runner: Runner, gw: GatewayEndpoint, socket: string, files: { probeSocket: string; probeLog: string }): Promise<void> {
  const sshArgv = buildSocketProbeArgv(gw, files.probeSocket, socket, files.probeLog);
  const argv = ["sh", "-c", PROBE, "sh", files.probeLog, files.probeSocket, ...sshArgv];
  const where = { gateway: formatHostPort(gw.host, gw.port), target: socket, listen: "", socketTarget: true };
  reportProgress(`checking that the socket ${socket} answers through the gateway ${where.gateway}`);
  await clearHopLogs(runner, gw);
  const result = await runner.run(argv, { timeoutMs: 60_000 });
  const out = result.stdout;
  if (/^probe: done$/m.test(out) && /channel \d+: open confirm/.test(out)) return;
  const diagnosis: SshDiagnosis | undefined = /^probe: no client$/m.test(out)
    ? { cause: "the tunnel host has neither perl nor python3 to connect once to the probe's socket", hint: "install perl (or python3) on the tunnel host, or set preflight: false" }
    : await diagnoseThroughHops(runner, gw, out, where);
  const last = out.trim().split("\n").filter((l) => !l.startsWith("debug")).slice(-3).join(" | ");
  throw new PreflightError(diagnosis?.cause ?? `the probe through the gateway did not open the socket: ${last || result.stderr.trim()}`, {
    what: "preflight: reach the target socket through the gateway",
    where: runner.where,
    command: quoteArgv(sshArgv),
    hint: diagnosis?.hint ?? "run the command above on the tunnel host and connect to its local socket to see ssh's own messages",
  });
}
