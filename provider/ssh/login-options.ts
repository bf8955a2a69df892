/** One ssh server as the tunnel host's ssh logs in to it: every credential is a file or a socket path. */
export interface SshLogin {
  host: string;
  port: number;
  user: string;
  /** The key (ours, in the state directory, or the user's path); none when only an agent signs. */
  identityFile?: string;
  knownHostsFile: string;
  /** A script that prints the key's passphrase (privateKeyPassphrase); none for plain keys. */
  askpassFile?: string;
  /** An OpenSSH user certificate for the key (CertificateFile). */
  certificateFile?: string;
  /** An ssh-agent socket on the tunnel host; none means IdentityAgent=none. */
  agentSocket?: string;
}

/**
 * How one login authenticates and checks its server, as ssh_config keywords: argv (`-o K=V`) for
 * the gateway, a Host block for each hop. Nothing from ~/.ssh or the caller's agent: the known
 * hosts, key, certificate and agent are exactly the ones given.
 */
export function loginOptions(login: SshLogin, keepAliveSeconds: number): [string, string][] {
  return [
    // BatchMode would also refuse to ask for a key's passphrase; with askpass, every other prompt
    // is still off (no passwords; StrictHostKeyChecking=yes never asks).
    ...(login.askpassFile
      ? ([
          ["BatchMode", "no"],
          ["PasswordAuthentication", "no"],
          ["KbdInteractiveAuthentication", "no"],
        ] as [string, string][])
      : [["BatchMode", "yes"] as [string, string]]),
    ["ControlMaster", "no"],
    ["ControlPath", "none"],
    ["StrictHostKeyChecking", "yes"],
    ["UserKnownHostsFile", login.knownHostsFile],
    ["GlobalKnownHostsFile", "/dev/null"],
    ["CheckHostIP", "no"],
    // With an agent and no key file, every key of that agent (named by the user) may be offered;
    // /dev/null as the file keeps ssh from adding ~/.ssh/id_* as defaults.
    ["IdentitiesOnly", login.agentSocket && !login.identityFile ? "no" : "yes"],
    ["IdentityAgent", login.agentSocket ?? "none"],
    ["IdentityFile", login.identityFile ?? "/dev/null"],
    ...(login.certificateFile ? [["CertificateFile", login.certificateFile] as [string, string]] : []),
    ["ConnectTimeout", "10"],
    ["ServerAliveInterval", String(keepAliveSeconds)],
    ["ServerAliveCountMax", "3"],
    ["ForwardAgent", "no"],
    ["ForwardX11", "no"],
    ["PermitLocalCommand", "no"],
  ];
}

/** `ssh`, or `env SSH_ASKPASS=... ssh` when the key needs a passphrase (env execs ssh: same pid). */
export function sshCommand(login: SshLogin): string[] {
  return login.askpassFile ? ["env", `SSH_ASKPASS=${login.askpassFile}`, "SSH_ASKPASS_REQUIRE=force", "ssh"] : ["ssh"];
}
