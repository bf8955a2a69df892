/**
 * How a command's output is told apart from whatever else the session printed. sshd runs
 * `~/.ssh/rc` or `/etc/ssh/sshrc`, and the login shell may read an rc file, before our command
 * starts; whatever they print arrives on the same stdout and stderr. So every command first prints
 * a begin marker (random per command) on both streams, and only what follows it is the command's.
 *
 * Output is kept as bytes until the command has ended and is decoded once: an ssh channel delivers
 * chunks of any size, and a multi-byte character split across two of them would otherwise decode to
 * garbage on each side.
 */

/** Collects a stream's chunks as a byte string (latin1: one char per byte, so no byte is lost). */
export class ByteText {
  text = "";
  push(chunk: Buffer): void {
    this.text += chunk.toString("latin1");
  }
}

/** The marker line a command prints before anything else, on stdout and on stderr. */
function beginMarker(nonce: string): string {
  return `${nonce}:begin\n`;
}

/** The shell words that print the begin marker on both streams (the nonce is [A-Za-z0-9-] only). */
export function printBegin(nonce: string): string {
  return `printf '%s:begin\\n' ${nonce}; printf '%s:begin\\n' ${nonce} >&2; `;
}

/**
 * What the command printed: the bytes after the begin marker (a banner before it is dropped),
 * decoded as UTF-8. Without a marker (the session died before the command ran) nothing is the
 * command's. `bytes` is the same, undecoded, for callers that compare output byte for byte.
 */
export function afterBegin(collected: string, nonce: string): { text: string; bytes: Buffer } {
  const marker = beginMarker(nonce);
  const at = collected.indexOf(marker);
  const bytes = Buffer.from(at < 0 ? "" : collected.slice(at + marker.length), "latin1");
  return { text: bytes.toString("utf8"), bytes };
}
