import { CommandFailedError } from "../errors";
import { quoteArgv } from "./quote";
import type { RunOptions, RunResult, Runner } from "./runner";

/**
 * Runs every command through `sudo -n --` (connection.sudo): firewall changes and low ports need
 * root, and -n makes a missing NOPASSWD rule fail at once instead of waiting for a password.
 * Everything on that host goes through it, so the ssh we start and the files we write belong to
 * root consistently, and refresh and destroy can see and stop them.
 */
export class SudoRunner implements Runner {
  readonly where: string;
  constructor(private readonly inner: Runner) {
    this.where = `${inner.where} (sudo)`;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const wrapped = ["sudo", "-n", "--", ...argv];
    const result = await this.inner.run(wrapped, options);
    if (result.exitCode === 1 && /^sudo: (a password is required|a terminal is required|.*not in the sudoers|.*not allowed to execute)/m.test(result.stderr)) {
      throw new CommandFailedError({
        what: "run a command through sudo",
        where: this.where,
        command: quoteArgv(wrapped),
        exitCode: result.exitCode,
        stderr: result.stderr,
        reason: "sudo refused to run it without a password",
        hint: "give the connection user a NOPASSWD sudoers rule for the firewall and ssh commands, or connect as root",
      });
    }
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
