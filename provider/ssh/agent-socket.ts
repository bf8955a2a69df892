import { SharedTunnelError } from "../errors";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { describeEntry, parseEntry, STAT_CHAIN, unsafeParent } from "../state/path-trust";

/**
 * An `agentSocket` that someone other than root or the connection user could have put in place.
 * @internal exported for its unit tests
 */
export class AgentSocketError extends SharedTunnelError {}

/** An agent socket to check, and the input that named it ("gateway.jumpHosts[0].agentSocket"). */
export interface AgentSocketToCheck {
  property: string;
  path: string;
}

/**
 * The uid commands run as, the login user's when they run through sudo (SUDO_UID), then
 * STAT_CHAIN's lines for the socket and each parent.
 */
const SCRIPT = `${STAT_CHAIN}
echo "$(id -u) \${SUDO_UID:-}"
chain "$1"`;

/**
 * Refuses an agent socket before ssh is pointed at it: the agent behind it signs our logins with
 * every key it holds, and sees every one of them. So it must be a socket owned by root or the
 * connection user (the commands' user, or the login user under sudo), below parents only they can
 * change (a sticky one such as /tmp is fine): anyone else could have put their own agent there
 * first, or swap it in later by renaming a parent.
 */
export async function checkAgentSockets(runner: Runner, sockets: readonly AgentSocketToCheck[]): Promise<void> {
  const seen = new Set<string>();
  for (const socket of sockets) {
    if (seen.has(socket.path)) continue;
    seen.add(socket.path);
    const argv = ["sh", "-c", SCRIPT, "sh", socket.path];
    const { stdout } = await runChecked(runner, argv, {
      what: "check the agent socket",
      hint: "the tunnel host needs sh, id, dirname and stat (coreutils)",
    });
    const problem = agentSocketProblem(stdout);
    if (problem) {
      throw new AgentSocketError(`${socket.property}: ${problem}`, {
        what: "check the agent socket",
        where: runner.where,
        command: quoteArgv(argv),
        hint:
          `use an agent started by root or the connection user at a path only they can change, e.g. ssh-agent -a <a 0700 directory of theirs>/agent.sock; ` +
          `inspect what is there now (ls -la ${quoteArgv([socket.path])}) before trusting it`,
      });
    }
  }
}

/**
 * Why STAT_CHAIN's output (after the uids line) shows a socket someone else could control, or undefined.
 * @internal exported for its unit tests
 */
export function agentSocketProblem(stdout: string): string | undefined {
  const [uids, ...lines] = stdout.trim().split("\n");
  const [uid, sudoUid] = uids.trim().split(" ");
  const [socket, ...parents] = lines.map(parseEntry);
  if (!socket || !/^\d+$/.test(uid ?? "")) return `could not read the socket's owner and mode (got ${JSON.stringify(stdout.slice(0, 200))})`;
  const trusted = ["0", uid, ...(sudoUid && /^\d+$/.test(sudoUid) ? [sudoUid] : [])];
  const users = [...new Set(trusted)].filter((u) => u !== "0");
  const who = users.length > 0 ? `root or uid ${users.join(" or ")} (the connection user)` : "root (the connection user)";
  if (socket.type !== "socket" || !trusted.includes(socket.uid))
    return `${describeEntry(socket)}; it must be the socket of a running ssh-agent owned by ${who}`;
  const unsafe = unsafeParent(parents, trusted);
  if (unsafe)
    return `${describeEntry(unsafe)}, a parent of the agent socket ${socket.path} that another user could change (only ${who} may, or it must be sticky like /tmp)`;
  return undefined;
}
