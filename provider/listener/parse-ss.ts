/** One listening socket from `ss -H -t -l -n -p`. */
export interface Listener {
  /** As ss prints it, without brackets or %interface: "198.51.100.40", "2001:db8::40", "*", "0.0.0.0". */
  address: string;
  port: number;
  processes: { name: string; pid: number; fd: number }[];
}

const USERS = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g;

/** Parses `ss -H -t -l -n -p` output. Lines it cannot read are skipped, not guessed at. */
export function parseSsListeners(output: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of output.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[0] !== "LISTEN") continue;
    const local = splitHostPort(cols[3]);
    if (!local) continue;
    const processes = [...line.matchAll(USERS)].map((m) => ({ name: m[1], pid: Number(m[2]), fd: Number(m[3]) }));
    listeners.push({ ...local, processes });
  }
  return listeners;
}

function splitHostPort(text: string): { address: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^\s]+?)):(\d+|\*)$/.exec(text);
  if (!m || m[3] === "*") return undefined;
  const host = (m[1] ?? m[2]).replace(/%.*$/, "");
  return { address: host, port: Number(m[3]) };
}

/** argv that lists every TCP listener, with its owning processes. */
export const LIST_ALL_LISTENERS: readonly string[] = ["ss", "-H", "-t", "-l", "-n", "-p"];

/** argv that lists TCP listeners on one port, with their owning processes. */
export function buildListListenersArgv(port: number): string[] {
  return ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`];
}
