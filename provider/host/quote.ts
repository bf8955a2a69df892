import { Shescape } from "shescape";
import { InternalError, UnsafeValueError } from "../errors";

// Every element single-quoted for a POSIX shell (sh, dash, bash, zsh): what sshd hands an exec
// request to. flagProtection would strip leading dashes from our own flags, so it is off; option
// injection is stopped by validation and by `--` before hosts instead.
const shescape = new Shescape({ shell: "dash", flagProtection: false });
const UNCARRIED = /[\0\b\r\x1b\x9b]/;

/**
 * The one function that turns argv into a POSIX shell command line. Used where a shell is
 * unavoidable (an ssh2 `exec` hands its string to the remote user's shell) and to show users a
 * copy-pasteable command. Quoting is shescape's, not ours.
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new InternalError("quoteArgv: empty argv", "quote a command line");
  for (const arg of argv) {
    // shescape silently drops NUL, BS, CR, ESC and CSI (a NUL cannot be in argv at all, the
    // others are terminal controls); a command must never run with an argument changed, so refuse.
    if (UNCARRIED.test(arg)) {
      throw new UnsafeValueError("quoteArgv: argument contains a NUL byte or a terminal control character", {
        what: "quote a command line",
        hint: "remove control characters (NUL, backspace, carriage return, escape) from the input that reached this command",
      });
    }
  }
  return shescape.quoteAll([...argv]).join(" ");
}
