import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../errors";
import { runCommand } from "./run-command";
import { withRunner } from "../host/open-runner";
import { silent } from "../host/report";
import { readHostStatus } from "../status/collect";
import { renderPrometheus } from "../status/prometheus";
import { formatStatusTable } from "../status/table";
import type { ConnectionArgs } from "../types";
import { connectionOf, HOST_USAGE, readFlags, stringFlag } from "./host-flags";

/**
 * `pulumi-shared-tunnel status`: every tunnel of ours on a tunnel host as it is now (status/), as a
 * table, JSON, or node_exporter's textfile format; read-only (docs/expiry-and-reaping.md#status).
 */
export const STATUS_USAGE = `usage: pulumi-shared-tunnel status ${HOST_USAGE}
                                  [--stack NAME] [--json | --prometheus | --textfile PATH]
Read-only: each tunnel of ours on the host (without --host, this machine): its listener, keeper,
gate and expiry. --textfile writes the --prometheus output to PATH by rename (node_exporter's
textfile collector; a cron line).
`;

interface ParsedStatus {
  connection?: ConnectionArgs;
  stack?: string;
  output: "table" | "json" | "prometheus";
  textfile?: string;
}

/**
 * Parses argv after the command name; throws a UsageError whose reason is meant for the user.
 * @internal exported for its unit tests
 */
export function parseStatusArgs(argv: string[]): ParsedStatus {
  const flags = readFlags(argv, ["--json", "--prometheus"], ["--stack", "--textfile"]);
  const textfile = stringFlag(flags, "--textfile");
  const outputs = ["--json", "--prometheus", "--textfile"].filter((k) => k in flags);
  if (outputs.length > 1) throw new UsageError(`${outputs.join(" and ")}: choose one`);
  if (textfile === "") throw new UsageError("--textfile needs a file's path");
  const connection = connectionOf(flags);
  const stack = stringFlag(flags, "--stack");
  return {
    ...(connection ? { connection } : {}),
    ...(stack !== undefined ? { stack } : {}),
    output: flags["--json"] ? "json" : flags["--prometheus"] || textfile !== undefined ? "prometheus" : "table",
    ...(textfile !== undefined ? { textfile } : {}),
  };
}

/**
 * Writes `text` to a new file beside `path` and renames it over `path`: node_exporter never reads
 * half a file. The temporary name does not end in .prom, so the collector never reads it either.
 * @internal exported for its unit tests
 */
export function writeTextfile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { flag: "wx", mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never made, or already renamed
    }
    throw err;
  }
}

/** Runs `status` with argv after the command name; returns the exit code. */
export function runStatus(argv: string[]): Promise<number> {
  return runCommand(argv, STATUS_USAGE, parseStatusArgs, async (parsed) => {
    const status = await withRunner(parsed.connection, silent, (runner) => readHostStatus(runner, { stack: parsed.stack }));
    const text =
      parsed.output === "json"
        ? `${JSON.stringify(status, null, 2)}\n`
        : parsed.output === "prometheus"
          ? renderPrometheus(status)
          : formatStatusTable(status);
    if (parsed.textfile !== undefined) writeTextfile(parsed.textfile, text);
    else process.stdout.write(text);
  });
}
