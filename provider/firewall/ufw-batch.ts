import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CommandFailedError, InternalError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { buildLockedArgv, ensureLockDir } from "./host-lock";
import { changeQueue, type QueuedChange } from "./change-queue";

/**
 * ufw rule changes on one host, queued and run back to back in one ufw process under one hold
 * of the firewall lock. Why: every `ufw` command starts Python and re-reads its rules and probes
 * iptables' capabilities (about 20 iptables runs) before its one change, ~200 ms each, and the
 * changes of a host must run one at a time (ufw's own lock does not cover its read of the saved
 * rules). 50 rules were 50 of those in a row; changes that arrive while a batch runs now wait for
 * the next one, so the first change of a run is not delayed at all.
 *
 * The batch is ufw's own command line code (/usr/sbin/ufw: parse_command, UFWFrontend.do_action,
 * ufw's lock file) looped over the changes in the interpreter ufw itself names, so each change is
 * exactly what `ufw <args>` would do. Where that code cannot be loaded (another ufw layout), each
 * change runs as its own `ufw` command, as before. Callers verify the result themselves.
 */

/**
 * Exit status of the batch when ufw's Python code cannot be loaded (then each change runs as a
 * command): ufw-batch.sh and ufw-batch.py say it as 3.
 * @internal exported for its unit tests
 */
export const UNAVAILABLE = 3;
/**
 * Each change's result line starts with this (ufw may print lines of its own); ufw-batch.py prints it.
 * @internal exported for its unit tests
 */
export const RESULT = "PST-UFW-RESULT ";
/** @internal exported for its unit tests */
export const LIVE = "PST-UFW-LIVE ";
/** @internal exported for its unit tests */
export const SAVED = "PST-UFW-SAVED ";
const MAX_BATCH = 64;

/**
 * ufw-batch.py, run with the interpreter on ufw's own first line (`#!/usr/bin/python3`) so it
 * finds ufw's modules, by the launcher ufw-batch.sh. Isolated (-I): `-c` would otherwise put the
 * working directory first on sys.path and honour PYTHONPATH and the user's site directory, so root
 * running this from a directory another user can write would import that user's `json.py`. Both
 * are real files of the package (linted: shellcheck, dash -n, a Python compile) sent as arguments,
 * nothing written on the host, and both travel as one line, the changes as arguments (JSON, one
 * word each), so `pgrep -af pst.` and the trace show each change being made, with its tag, one
 * line a process: the launcher is one line of sh (its file's only line), the Python a JSON string
 * literal, which is a Python one too, handed to exec.
 * @internal exported for its unit tests
 */
export const LAUNCH = oneLine(readFileSync(join(__dirname, "ufw-batch.sh"), "utf8"));
/** @internal exported for its unit tests */
export const PYTHON_LINE = `exec(${JSON.stringify(readFileSync(join(__dirname, "ufw-batch.py"), "utf8"))})`;

/** The launcher's file is one line of sh (and its newline); a second would not be one line in argv. */
function oneLine(text: string): string {
  const line = text.replace(/\n$/, "");
  if (line.includes("\n")) throw new InternalError("ufw-batch.sh must be one line", "load the ufw batch's launcher");
  return line;
}

interface Change extends QueuedChange<AfterBatch> {
  /** The whole command a person would type: ["ufw", "allow", ...]. */
  argv: readonly string[];
  /** A command whose exit status 0 says the change is live (`iptables -C ...`), run by the batch after every change. */
  check?: readonly string[];
}

/**
 * What the batch saw after all its changes, before letting go of the locks: whether this change's
 * check passed, and ufw's saved rules (user.rules then user6.rules, as `cat` of both prints them).
 */
export interface AfterBatch {
  live: boolean;
  saved: string;
}

const enqueue = changeQueue<AfterBatch, Change>(MAX_BATCH, runBatch);

/**
 * Applies one ufw change (`argv` starts with "ufw") in the host's next batch; throws
 * CommandFailedError when ufw refuses it. With `check`, returns what the batch saw after its
 * changes (AfterBatch), or undefined where it could not tell (ufw's code not loaded, a check that
 * could not run): the caller then verifies with commands of its own.
 */
export async function ufwChange(
  runner: Runner,
  argv: readonly string[],
  what: string,
  hint?: string,
  check?: readonly string[],
): Promise<AfterBatch | undefined> {
  await ensureLockDir(runner);
  return enqueue({ runner, argv, what, hint, check });
}

/** One locked ufw process for `batch` (on the first change's runner: its caller is waiting, so it is open). */
async function runBatch(batch: Change[]): Promise<void> {
  const runner = batch[0].runner;
  const changes = batch.map((c) => JSON.stringify(c.check ? { args: c.argv.slice(1), check: c.check } : c.argv.slice(1)));
  let result;
  try {
    result = await runner.run(buildLockedArgv([["sh", "-c", LAUNCH, "sh", PYTHON_LINE, ...changes]]));
  } catch (err) {
    for (const c of batch) c.done(err as Error);
    return;
  }
  if (result.exitCode === UNAVAILABLE) return runOneByOne(batch);
  const lines = result.stdout.split("\n").filter((l) => l.startsWith(RESULT));
  const after = parseAfter(result.stdout);
  batch.forEach((c, i) => {
    const out = parseResult(lines[i]);
    const live = after.live.get(i);
    if (out?.ok) return c.done(undefined, live !== undefined && after.saved !== undefined ? { live: live === 0, saved: after.saved } : undefined);
    c.done(failed(c, out ? 1 : result.exitCode, out ? out.message : result.stderr || "ufw stopped before this change"));
  });
}

/** Without ufw's code: each change as its own `ufw` command (the lock is already held locally). */
async function runOneByOne(batch: Change[]): Promise<void> {
  for (const c of batch) {
    try {
      const r = await c.runner.run(buildLockedArgv([c.argv]));
      c.done(r.exitCode === 0 ? undefined : failed(c, r.exitCode, r.stderr));
    } catch (err) {
      c.done(err as Error);
    }
  }
}

/** The batch's LIVE lines (change index to the check's exit status) and its SAVED line, where it printed them. */
function parseAfter(stdout: string): { live: Map<number, number>; saved?: string } {
  const live = new Map<number, number>();
  let saved: string | undefined;
  for (const line of stdout.split("\n")) {
    try {
      if (line.startsWith(LIVE)) {
        const v = JSON.parse(line.slice(LIVE.length)) as { change?: unknown; exit?: unknown };
        if (typeof v.change === "number" && typeof v.exit === "number") live.set(v.change, v.exit);
      } else if (line.startsWith(SAVED)) {
        const v = JSON.parse(line.slice(SAVED.length)) as unknown;
        if (typeof v === "string") saved = v;
      }
    } catch {
      // A line cut or garbled says nothing: the caller reads for itself.
    }
  }
  return { live, saved };
}

function parseResult(line: string | undefined): { ok: boolean; message: string } | undefined {
  try {
    const v = line === undefined ? undefined : (JSON.parse(line.slice(RESULT.length)) as { ok?: unknown; message?: unknown });
    return v && typeof v.ok === "boolean" ? { ok: v.ok, message: typeof v.message === "string" ? v.message : "" } : undefined;
  } catch {
    return undefined;
  }
}

function failed(c: Change, exitCode: number | undefined, stderr: string): CommandFailedError {
  return new CommandFailedError({ what: c.what, where: c.runner.where, command: quoteArgv(c.argv), hint: c.hint, exitCode, stderr });
}
