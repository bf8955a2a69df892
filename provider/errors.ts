/**
 * Typed errors. Every error a user can cause says what failed, where (which host), the exact
 * command (copy-pasteable, secrets never included: secrets travel in files and stdin, not argv),
 * and a hint on how to fix it. The message is built once so Pulumi shows all of it on one screen.
 */

export interface ErrorDetails {
  /** What failed, in a user's words ("start the ssh forward"). */
  what: string;
  /** Where it ran: "local" or "root@198.18.0.2:22". */
  where?: string;
  /** The exact command line, quoted for a POSIX shell. */
  command?: string;
  /** How to fix it. */
  hint?: string;
}

export class SharedTunnelError extends Error {
  readonly what: string;
  readonly where?: string;
  readonly command?: string;
  readonly hint?: string;

  constructor(message: string, details: ErrorDetails) {
    super(formatMessage(message, details));
    this.name = new.target.name;
    this.what = details.what;
    this.where = details.where;
    this.command = details.command;
    this.hint = details.hint;
  }
}

function formatMessage(message: string, d: ErrorDetails): string {
  // The message and hint may quote the host (stderr, process names, command lines); the command is
  // ours, quoted by quoteArgv, which refuses control characters.
  const lines = [`${d.what}${d.where ? ` on ${d.where}` : ""} failed: ${printable(message)}`];
  if (d.command) lines.push(`  command: ${d.command}`);
  if (d.hint) lines.push(`  hint: ${printable(d.hint)}`);
  return lines.join("\n");
}

/**
 * Text from a host as it may be shown to a person: every control or format character (a terminal
 * escape sequence, a carriage return that hides what came before it, a newline that fakes a
 * "hint:" line, a bidi override that reorders what follows) becomes a visible escape (\n, \x1b, \u202e).
 * Every error message passes through here, and so does refresh's drift naming another process;
 * it is the one place host text is made printable.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    const code = c.codePointAt(0) as number;
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
  });
}

/** One failed input property; `check` returns every one of them at once. */
export interface InputFailure {
  property: string;
  reason: string;
}

/** Bad input, found before anything is started. */
export class ValidationError extends SharedTunnelError {
  readonly failures: InputFailure[];
  constructor(failures: InputFailure[]) {
    super(failures.map((f) => `${f.property}: ${f.reason}`).join("; "), {
      what: "validate inputs",
      hint: "fix the inputs named above; nothing was started",
    });
    this.failures = failures;
  }
}

/** A command ran and exited non-zero (or was killed). */
export class CommandFailedError extends SharedTunnelError {
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(details: ErrorDetails & { exitCode: number | undefined; stderr: string; reason?: string }) {
    const stderr = details.stderr.trim();
    const reason = details.reason ?? `exit code ${details.exitCode ?? "none (killed or timed out)"}`;
    super(stderr ? `${reason}: ${lastLines(stderr, 6)}` : reason, details);
    this.exitCode = details.exitCode;
    this.stderr = stderr;
  }
}

/** The provider could not reach the tunnel host over ssh2. */
export class SshConnectError extends SharedTunnelError {
  /** The server dropped the connection before authentication; another try may succeed. */
  transient = false;
}

/** A preflight check (gateway reachable, target answers, bind address, free port) failed. */
export class PreflightError extends SharedTunnelError {}

/** The host's firewall is not in a state where our rule would mean anything, or a rule clashes. */
export class FirewallError extends SharedTunnelError {}

/** The process or listener we found is not the one we started. */
export class OwnershipError extends SharedTunnelError {}

/**
 * A resource's saved state holds a value create never writes (edited by hand, or damaged). Acting
 * on it could touch processes or rules that are not the resource's, so nothing runs on the host.
 */
export class CorruptStateError extends SharedTunnelError {}

/**
 * A runner could not carry a command to its end: it could not be started (no such binary, no
 * permission) or the connection or shell carrying it went away. Unlike CommandFailedError there
 * is no exit code, so whether the command did anything is unknown.
 */
export class RunnerError extends SharedTunnelError {}

/**
 * A host did not answer within the limit of its step: no end of a command, no channel, no slot on
 * the connection. The command may still be running there; the session that carried it is dropped.
 */
export class HostTimeoutError extends RunnerError {}

/**
 * A command's output did not arrive whole (fewer or more bytes than the host said it wrote, or the
 * host could not send them): it is never taken for a result, and the session is dropped.
 */
export class IncompleteOutputError extends RunnerError {}

/**
 * A value refused where it would become part of a command line, a ruleset, an ssh config or a path
 * on a host (a terminal control character in an argument, a tag that is not a plain word). Input
 * validation refuses such values first; this is the last guard, so nothing ran with the value.
 */
export class UnsafeValueError extends SharedTunnelError {}

/** A call broke an internal contract (an empty argv): a bug in this package, not in the inputs. */
export class InternalError extends SharedTunnelError {
  constructor(message: string, what: string) {
    super(message, { what, hint: "this is a bug in pulumi-shared-tunnel: please report it with this message" });
  }
}

/** The command line of the `pulumi-shared-tunnel` CLI was not understood. */
export class UsageError extends SharedTunnelError {
  /** The one line the CLI prints above its usage text. */
  readonly reason: string;
  constructor(reason: string) {
    super(reason, { what: "read the command line", hint: "run `pulumi-shared-tunnel reap --help` for the usage" });
    this.reason = printable(reason);
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  return lines.slice(-n).join(" | ");
}
