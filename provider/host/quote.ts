import { quote } from "shell-quote";

/**
 * The one function that turns argv into a POSIX shell command line. Used where a shell is
 * unavoidable (an ssh2 `exec` hands its string to the remote user's shell) and to show users a
 * copy-pasteable command. Quoting is shell-quote's, not ours.
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("quoteArgv: empty argv");
  for (const arg of argv) {
    // A NUL cannot be passed in argv at all; refuse rather than truncate silently.
    if (arg.includes("\0")) throw new Error("quoteArgv: argument contains a NUL byte");
  }
  return quote([...argv]);
}
