#!/usr/bin/env node
/**
 * The `pulumi-shared-tunnel` command (the package's bin): `status` (status.ts), `connections`
 * (connections.ts), and `reap`, here:
 * `pulumi-shared-tunnel reap` finds what this package left on a tunnel host (forwards, expiry
 * watchdogs, firewall rules, all carrying a pst.* tag) and removes it. For what a dead pipeline
 * left behind when `pulumi destroy` never ran; see docs/troubleshooting.md and docs/expiry-and-reaping.md.
 */
import { SharedTunnelError, UsageError } from "../errors";
import { parseDuration } from "../validation/duration";
import { withRunner } from "../host/open-runner";
import { silent } from "../host/report";
import { formatReapTable, reapHost, type ReapOptions } from "../reap/reap";
import type { ConnectionArgs } from "../types";
import { connectionOf, HOST_USAGE, readFlags, stringFlag } from "./host-flags";
import { CONNECTIONS_USAGE, runConnections } from "./connections";
import { runStatus, STATUS_USAGE } from "./status";

const USAGE = `usage: pulumi-shared-tunnel reap ${HOST_USAGE}
                                 [--older-than 1h] [--stack NAME] [--dry-run]
Without --host, the machine it runs on is the tunnel host. Lists every forward, watchdog and
firewall rule carrying a pst.* tag, and (without --dry-run) stops and removes them.
`;

interface Parsed {
  connection?: ConnectionArgs;
  options: ReapOptions;
}

/** Parses argv after the command name; throws a UsageError whose reason is meant for the user. */
export function parseReapArgs(argv: string[]): Parsed {
  const flags = readFlags(argv, ["--dry-run"], ["--older-than", "--stack"]);
  const options: ReapOptions = { dryRun: flags["--dry-run"] === true, stack: stringFlag(flags, "--stack") };
  const older = stringFlag(flags, "--older-than");
  if (older !== undefined) {
    const seconds = parseDuration(/^\d+$/.test(older) ? Number(older) : older);
    if (typeof seconds === "string") throw new UsageError(`--older-than ${seconds}`);
    options.olderThanSeconds = seconds;
  }
  const connection = connectionOf(flags);
  return connection ? { options, connection } : { options };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "status") return runStatus(argv.slice(1));
  if (argv[0] === "connections") return runConnections(argv.slice(1));
  if (argv[0] !== "reap" || argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write(argv[0] === "reap" ? USAGE : `${USAGE}${STATUS_USAGE}${CONNECTIONS_USAGE}`);
    return argv[0] === "reap" ? 0 : 2;
  }
  let parsed: Parsed;
  try {
    parsed = parseReapArgs(argv.slice(1));
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError ? err.reason : (err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const rows = await withRunner(parsed.connection, silent, (runner) => reapHost(runner, parsed.options));
    process.stdout.write(formatReapTable(rows));
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof SharedTunnelError ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * Exits once stdout and stderr have taken everything written to them: process.exit drops what a
 * pipe has not yet taken (past 64 KiB, a `connections --json` was cut mid-record), and a result
 * must be whole or the command must fail.
 */
function exitWhenWritten(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(exitWhenWritten);
}
