import { UsageError } from "../errors";
import type { ConnectionArgs } from "../types";

/** Flags every command of ours takes to reach a tunnel host over ssh (without --host: this machine is the tunnel host). */
const HOST_VALUES = ["--host", "--user", "--key", "--host-key", "--port"];

export const HOST_USAGE = `[--host H --user U --key PATH --host-key "ssh-ed25519 AAAA..." [--port 22] [--sudo]]`;

/** Flag to value (true for a flag without one), the host flags included; throws a UsageError meant for the user. */
export function readFlags(argv: readonly string[], booleans: readonly string[], valued: readonly string[]): Record<string, string | true> {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--sudo" || booleans.includes(flag)) flags[flag] = true;
    else if (HOST_VALUES.includes(flag) || valued.includes(flag)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      flags[flag] = value;
    } else throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
  }
  return flags;
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: Record<string, string | true>, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

/** The connection the host flags name, or undefined without --host. */
export function connectionOf(flags: Record<string, string | true>): ConnectionArgs | undefined {
  const host = stringFlag(flags, "--host");
  if (host === undefined) {
    if (["--user", "--key", "--host-key", "--port", "--sudo"].some((k) => k in flags))
      throw new UsageError("--user, --key, --host-key, --port and --sudo need --host");
    return undefined;
  }
  const user = stringFlag(flags, "--user"),
    key = stringFlag(flags, "--key"),
    hostKey = stringFlag(flags, "--host-key");
  if (!user || !key || !hostKey) throw new UsageError("--host needs --user, --key and --host-key (the pinned host key line)");
  const port = stringFlag(flags, "--port");
  return { host, user, privateKeyPath: key, hostKey, ...(port ? { port: Number(port) } : {}), ...(flags["--sudo"] ? { sudo: true } : {}) };
}
