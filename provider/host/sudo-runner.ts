import { CommandFailedError } from "../errors";
import { quoteArgv } from "./quote";
import type { RunOptions, RunResult, Runner } from "./runner";

/**
 * What sudo must allow. Every command on the host goes through sudo, among them `sh -c` scripts
 * (files, locks, watchdogs, process listings), `env` (starting ssh with its askpass), `flock`,
 * `ssh`, `kill`, `cat`, `rm` and the firewall tools: with `sh` and `env` allowed, a list of
 * commands grants no less than ALL, so the rule to give is ALL, and saying less would mislead.
 */
const SUDO_HINT =
  'give the connection user a NOPASSWD rule for all commands, e.g. "<user> ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/ ' +
  "(the provider runs sh -c scripts, env, flock, ssh, kill and the firewall tools as root, so a shorter list would not be narrower), or connect as root";

const asRoot = new WeakMap<object, object>();
function rootOn(host: object): object {
  let key = asRoot.get(host);
  if (!key) asRoot.set(host, (key = {}));
  return key;
}

/**
 * Runs every command through `sudo -n --` (connection.sudo): firewall changes and low ports need
 * root, and -n makes a missing NOPASSWD rule fail at once instead of waiting for a password.
 * Everything on that host goes through it, so the ssh we start and the files we write belong to
 * root consistently, and refresh and destroy can see and stop them.
 */
export class SudoRunner implements Runner {
  readonly where: string;
  /** root on the inner runner's host: another user than the inner runner's own, so a key of its own. */
  readonly host?: object;
  constructor(private readonly inner: Runner) {
    this.where = `${inner.where} (sudo)`;
    this.host = inner.host && rootOn(inner.host);
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const wrapped = ["sudo", "-n", "--", ...argv];
    const result = await this.inner.run(wrapped, options);
    if (
      result.exitCode === 1 &&
      /^sudo: (a password is required|a terminal is required|.*not in the sudoers|.*not allowed to execute)/m.test(result.stderr)
    ) {
      throw new CommandFailedError({
        what: "run a command through sudo",
        where: this.where,
        command: quoteArgv(wrapped),
        exitCode: result.exitCode,
        stderr: result.stderr,
        reason: "sudo refused to run it without a password",
        hint: SUDO_HINT,
      });
    }
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
