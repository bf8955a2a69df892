import { UnsafeValueError } from "../errors";
import { quoteArgv } from "../host/quote";
import { loginOptions, sshCommand, type SshLogin } from "./login-options";

/**
 * Jump hosts in front of the gateway, pinned one by one. OpenSSH's ProxyJump hands the jump
 * connection only -l -p -J -F -v, so with our `-F none` the hops would fall back to default host
 * key checking, ~/.ssh and the caller's agent. Instead a private config (0600, in the state
 * directory, named with the tag) holds one Host alias per hop with all of that hop's options, and
 * each hop is reached through a ProxyCommand that reads only that config: every hop gets exactly
 * its own known_hosts, key, certificate and agent, and StrictHostKeyChecking=yes.
 */
interface Hop extends SshLogin {
  /** The Host alias in the config ("<tag>.hop1"): tag characters only, so never a pattern. */
  alias: string;
  /** The -E log of the ssh that logs in to this hop: errors name the hop from it. */
  logFile: string;
}

export interface JumpChain {
  configFile: string;
  /** Nearest the tunnel host first. */
  hops: Hop[];
  keepAliveSeconds: number;
}

/**
 * The ProxyCommand that reaches whatever comes after hop `n` (1-based): `ssh -F <config> -E
 * <hop n log> -W [%h]:%p <hop n alias>`, with hop n's askpass in its environment when its key has
 * a passphrase. ssh runs it through `$SHELL -c "exec ..."`, after expanding %-tokens: every word
 * is quoted, and the paths (state directory, validated) hold no %.
 */
export function hopProxyCommand(chain: JumpChain, n: number): string {
  const hop = chain.hops[n - 1];
  return quoteArgv([...sshCommand(hop), "-F", chain.configFile, "-E", hop.logFile, "-W", "[%h]:%p", "--", hop.alias]);
}

/** The config's text: one Host block per hop, each after the first reached through the one before. */
export function buildHopConfig(chain: JumpChain): string {
  const blocks = chain.hops.map((hop, i) => {
    const lines: [string, string][] = [
      ["HostName", hop.host],
      ["Port", String(hop.port)],
      ["User", hop.user],
      ...loginOptions(hop, chain.keepAliveSeconds),
      // Not through the first hop: no config-wide ProxyCommand/ProxyJump may apply to it either.
      ["ProxyCommand", i === 0 ? "none" : hopProxyCommand(chain, i)],
    ];
    return [`Host ${hop.alias}`, ...lines.map(([k, v]) => `  ${k} ${k === "ProxyCommand" ? v : configWord(v)}`)].join("\n");
  });
  return [
    "# pulumi-shared-tunnel: the gateway's jump hosts, tunnel host's side first. Generated for one forward; removed with it.",
    ...blocks,
    "",
  ].join("\n");
}

/**
 * A value as ssh_config reads it: split on whitespace with quotes removed. Ours are host names,
 * numbers, user names and paths already refused if they hold whitespace, quotes, backslashes, %
 * or ${ (validation, and the state directory's own check); double quotes keep them one word.
 */
function configWord(value: string): string {
  if (/[\s"'\\%\0]|\$\{/.test(value)) {
    throw new UnsafeValueError(`hop-config: ${JSON.stringify(value)} cannot be written into an ssh config safely`, {
      what: "write the jump hosts' ssh config",
      hint: "remove whitespace, quotes, backslashes, % and ${ from the gateway's jump host values (host, user, paths)",
    });
  }
  return `"${value}"`;
}
