import { createHash } from "node:crypto";
import { PreflightError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { formatHostPort } from "../validation/net";
import type { SshDiagnosis } from "./classify-ssh-error";
import { clearHopLogs, diagnoseThroughHops } from "./diagnose-hops";
import { buildSftpListArgv, buildSocketProbeArgv, type GatewayEndpoint } from "./forward-argv";

/**
 * `ssh -W` takes host:port only, so a Unix-socket target is proved another way, with nothing on
 * the gateway beyond sshd: a short-lived `ssh -N -L <private local socket>:<target socket>` (the
 * local end in the state directory, 0600: no TCP port, nobody else can connect), one connection to
 * it that sends nothing and closes, and ssh's own DEBUG2 log saying whether the gateway opened the
 * channel. It costs one more login to the gateway (through the same hops) and a connection the
 * service sees open and close; the connecting client is perl (Essential on Debian and Ubuntu) or
 * python3 on the tunnel host, each isolated from the caller's environment and directory: perl -T
 * ignores PERL5LIB and PERL5OPT (the socket path is then untainted by hand: it is ours), python3 -I
 * ignores PYTHON* and never looks in the working directory.
 */
const PROBE = `log=$1 dir=$2 sock=$3; shift 3
cd -- "$dir" || exit
rm -f -- "$log" "$sock"
"$@" & pid=$!
i=0
while [ ! -S "$sock" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; echo "probe: ssh exited $?"; cat -- "$log" 2>/dev/null; exit 0; fi
  i=$((i + 1)); if [ "$i" -ge 300 ]; then kill "$pid"; wait "$pid"; echo "probe: timed out"; cat -- "$log"; exit 0; fi
  sleep 0.1
done
if command -v perl >/dev/null 2>&1; then perl -T -MIO::Socket::UNIX -e '($p) = $ARGV[0] =~ /(.+)/s; IO::Socket::UNIX->new(Peer => $p) or exit 3' "$sock"
elif command -v python3 >/dev/null 2>&1; then python3 -I -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$sock"
else kill "$pid"; wait "$pid"; rm -f -- "$sock"; echo "probe: no client"; exit 0; fi
i=0
until grep -qE 'channel [0-9]+: open (confirm|failed)' "$log" || [ "$i" -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
kill "$pid"; wait "$pid"
rm -f -- "$sock"
echo "probe: done"; cat -- "$log"; rm -f -- "$log"`;

/**
 * The gateway refuses a socket channel with the same words whether the socket is missing or
 * AllowStreamLocalForwarding is off (sshd sends "open failed" for both). Which one it was is read
 * over sftp, which most sshd configurations offer: `ls -l` of the path says whether it exists.
 */
async function whyRefused(runner: Runner, gw: GatewayEndpoint, socket: string, gateway: string): Promise<SshDiagnosis> {
  const r = await runner.run(buildSftpListArgv(gw), { input: `ls -l "${socket}"\n`, timeoutMs: 30_000 });
  const text = r.stdout + r.stderr;
  if (/not found|No such file/i.test(text)) {
    return {
      cause: `the socket ${socket} does not exist on the gateway ${gateway}`,
      hint: "check targetSocket as the gateway sees it, and that the service there is running and listening on that path",
    };
  }
  if (r.exitCode === 0 && new RegExp(`^s\\S*\\s.*${escapeRegExp(socket)}$`, "m").test(text)) {
    return {
      cause: `the gateway ${gateway} refused to connect this user to ${socket}, which exists there: AllowStreamLocalForwarding is off for this user (or nothing listens on that socket any more)`,
      hint: "set AllowStreamLocalForwarding yes (or local) for this user in the gateway's sshd_config (AllowTcpForwarding does not cover sockets), and check the service is running",
    };
  }
  return {
    cause: `the gateway ${gateway} did not connect to the socket ${socket}: it is missing, nothing listens on it, or AllowStreamLocalForwarding is off for this user (sftp, which would tell which, is not offered there)`,
    hint: "check targetSocket as the gateway sees it, and AllowStreamLocalForwarding yes (or local) in the gateway's sshd_config",
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The probe's files in the state directory, named after the tunnel's tag: its local socket (private) and the probe ssh's log. */
export function probeFileNames(tag: string) {
  return { probeSocket: `${tag}.probe.sock`, probeLog: `${tag}.probe.log` };
}

/**
 * The probe's local socket, relative to the state directory (the script runs there): a socket path
 * has room for about 100 bytes, less than a long tag needs with the directory in front. A tag too
 * long even alone gets a name from its hash (the script removes the socket in every case).
 */
function probeSocketName(tag: string): string {
  const named = probeFileNames(tag).probeSocket;
  // "./": ssh's -L reads a listen spec without a "/" as a port.
  return named.length <= 100 ? `./${named}` : `./pst.probe.${createHash("sha256").update(tag).digest("hex").slice(0, 16)}.sock`;
}

/** Proves the Unix socket `socket` on the gateway accepts a connection forwarded the way the forward's will be. */
export async function checkSocketPath(
  runner: Runner,
  gw: GatewayEndpoint,
  socket: string,
  probe: { dir: string; tag: string; log: string },
): Promise<void> {
  const local = probeSocketName(probe.tag);
  const sshArgv = buildSocketProbeArgv(gw, local, socket, probe.log);
  const argv = ["sh", "-c", PROBE, "sh", probe.log, probe.dir, local, ...sshArgv];
  const where = { gateway: formatHostPort(gw.host, gw.port), target: socket, listen: "", socketTarget: true };
  runner.report?.(`checking that the socket ${socket} answers through the gateway ${where.gateway}`);
  await clearHopLogs(runner, gw);
  const result = await runner.run(argv, { timeoutMs: 60_000 });
  const out = result.stdout;
  if (/^probe: done$/m.test(out) && /channel \d+: open confirm/.test(out)) return;
  const diagnosis: SshDiagnosis | undefined = /^probe: no client$/m.test(out)
    ? {
        cause: "the tunnel host has neither perl nor python3 to connect once to the probe's socket",
        hint: "install perl (or python3) on the tunnel host, or set preflight: false",
      }
    : /channel \d+: open failed/.test(out)
      ? await whyRefused(runner, gw, socket, where.gateway)
      : await diagnoseThroughHops(runner, gw, out, where);
  const last = out
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("debug"))
    .slice(-3)
    .join(" | ");
  throw new PreflightError(diagnosis?.cause ?? `the probe through the gateway did not open the socket: ${last || result.stderr.trim()}`, {
    what: "preflight: reach the target socket through the gateway",
    where: runner.where,
    command: quoteArgv(sshArgv),
    hint: diagnosis?.hint ?? "run the command above on the tunnel host and connect to its local socket to see ssh's own messages",
  });
}
