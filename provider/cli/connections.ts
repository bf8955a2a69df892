import { SharedTunnelError, UsageError } from "../errors";
import { runCommand } from "./run-command";
import { ConnectionCounting } from "../firewall/counting";
import { withRunner } from "../host/open-runner";
import { silent } from "../host/report";
import { runChecked, type Runner } from "../host/runner";
import { formatConnectionsTable, selectConnections, type ConnectionsFilter, type ConnectionsReport } from "../status/connections";
import type { ConnectionArgs } from "../types";
import { parseDuration } from "../validation/duration";
import { connectionOf, HOST_USAGE, readFlags, stringFlag } from "./host-flags";

/**
 * `pulumi-shared-tunnel connections`: the records the tunnel host's kernel keeps of each connection
 * through our gates (firewall/connection-records.ts); read-only (docs/connection-counts.md#records).
 */
export const CONNECTIONS_USAGE = `usage: pulumi-shared-tunnel connections ${HOST_USAGE}
                                       [--tag TAG | --stack NAME] [--since 1h] [--json]
Read-only: each connection our gates let in during the last 24 hours (without --host, on this
machine): its source, start, end, duration and bytes each way, oldest first.
`;

interface ParsedConnections {
  connection?: ConnectionArgs;
  filter: Omit<ConnectionsFilter, "sinceUnix">;
  sinceSeconds?: number;
  json: boolean;
}

/**
 * Parses argv after the command name; throws a UsageError whose reason is meant for the user.
 * @internal exported for its unit tests
 */
export function parseConnectionsArgs(argv: string[]): ParsedConnections {
  const flags = readFlags(argv, ["--json"], ["--tag", "--stack", "--since"]);
  const tag = stringFlag(flags, "--tag");
  const stack = stringFlag(flags, "--stack");
  if (tag !== undefined && stack !== undefined) throw new UsageError("--tag and --stack: choose one");
  const since = stringFlag(flags, "--since");
  let sinceSeconds: number | undefined;
  if (since !== undefined) {
    const seconds = parseDuration(/^\d+$/.test(since) ? Number(since) : since);
    if (typeof seconds === "string") throw new UsageError(`--since ${seconds}`);
    sinceSeconds = seconds;
  }
  const connection = connectionOf(flags);
  return {
    ...(connection ? { connection } : {}),
    filter: { ...(tag !== undefined ? { tag } : {}), ...(stack !== undefined ? { stack } : {}) },
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    json: flags["--json"] === true,
  };
}

/** Runs `connections` with argv after the command name; returns the exit code. */
export function runConnections(argv: string[]): Promise<number> {
  return runCommand(argv, CONNECTIONS_USAGE, parseConnectionsArgs, async (parsed) => {
    const report = await withRunner(parsed.connection, silent, (runner) => readConnections(runner, parsed));
    process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatConnectionsTable(report));
  });
}

async function readConnections(runner: Runner, parsed: ParsedConnections): Promise<ConnectionsReport> {
  // The host's clock: the records' times are the host's, and so is "the last hour".
  const now = Number((await runChecked(runner, ["date", "+%s"], { what: "read the host's clock" })).stdout.trim());
  const listing = await new ConnectionCounting(runner).read({ records: true }, new Date(now * 1000));
  if (listing === "unavailable")
    throw new SharedTunnelError("this tunnel host has no nft, so it keeps no connection records", {
      what: "read the connection records",
      hint: "install nftables on the tunnel host (records and counts live in nft sets); rules made before that need a pulumi up",
    });
  const sinceUnix = parsed.sinceSeconds === undefined ? undefined : now - parsed.sinceSeconds;
  return selectConnections(listing.counts, { ...parsed.filter, ...(sinceUnix !== undefined ? { sinceUnix } : {}) }, new Date(now * 1000));
}
