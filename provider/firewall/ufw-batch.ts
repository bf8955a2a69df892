import { CommandFailedError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { buildLockedArgv, ensureLockDir } from "./host-lock";
import { withLocalLock } from "./local-lock";

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

/** Exit status of the batch when ufw's Python code cannot be loaded (then each change runs as a command). */
const UNAVAILABLE = 3;
/** Each change's result line starts with this (ufw may print lines of its own). */
const RESULT = "PST-UFW-RESULT ";
const MAX_BATCH = 64;

const PYTHON = `
import json, os, sys
# As if run as ufw itself: ufw checks the ownership and mode of its own program file (argv[0]).
changes = sys.argv[2:]
sys.argv = sys.argv[1:2]
try:
    import gettext
    import ufw.common, ufw.frontend
    from ufw.common import UFWError
    from ufw.util import create_lock, release_lock
except Exception as e:
    sys.stderr.write("cannot load ufw's code: %s\\n" % e)
    sys.exit(${UNAVAILABLE})
gettext.install(ufw.common.programName)
lockfile = "/run/ufw.lock"
if os.getuid() != 0 or "TESTSTATE" in os.environ:
    lockfile = os.path.join(ufw.common.state_dir, "ufw.lock")
lock = create_lock(lockfile=lockfile, dryrun=False)
ui = None
try:
    for change in changes:
        try:
            pr = ufw.frontend.parse_command(["ufw"] + json.loads(change))
            if ui is None:
                ui = ufw.frontend.UFWFrontend(pr.dryrun)
            res = ui.do_action(pr.action, pr.data.get("rule", ""), pr.data.get("iptype", ""), pr.force)
            out = {"ok": True, "message": res}
        except UFWError as e:
            out = {"ok": False, "message": e.value}
        except (Exception, SystemExit) as e:
            out = {"ok": False, "message": "%s: %s" % (type(e).__name__, e)}
            ui = None
        sys.stdout.write("${RESULT}" + json.dumps(out) + "\\n")
        sys.stdout.flush()
finally:
    release_lock(lock)
`;

/**
 * Runs PYTHON with the interpreter on ufw's own first line (`#!/usr/bin/python3`), so it finds
 * ufw's modules. Isolated (-I): `-c` would otherwise put the working directory first on sys.path
 * and honour PYTHONPATH and the user's site directory, so root running this from a directory
 * another user can write would import that user's `json.py`. Both are one line, and the changes are arguments (JSON, one word each), so
 * `pgrep -af pst.` and the trace show each change being made, with its tag, one line a process.
 */
const LAUNCH = [
  `u=$(command -v ufw) || exit ${UNAVAILABLE}`,
  `IFS= read -r first <"$u" || exit ${UNAVAILABLE}`,
  `case $first in '#!'*) ;; *) exit ${UNAVAILABLE} ;; esac`,
  "py=${first#??}; p=$1; shift",
  'exec $py -I -c "$p" "$u" "$@"',
].join("; ");
/** PYTHON as one line: a JSON string literal is a Python one too. */
const PYTHON_LINE = `exec(${JSON.stringify(PYTHON)})`;

interface Change {
  runner: Runner;
  /** The whole command a person would type: ["ufw", "allow", ...]. */
  argv: readonly string[];
  what: string;
  hint?: string;
  done: (err?: Error) => void;
}

const queues = new Map<string, Change[]>();

/** Applies one ufw change (`argv` starts with "ufw") in the host's next batch; throws CommandFailedError when ufw refuses it. */
export async function ufwChange(runner: Runner, argv: readonly string[], what: string, hint?: string): Promise<void> {
  await ensureLockDir(runner);
  return new Promise<void>((resolve, reject) => {
    const queue = queues.get(runner.where);
    const change: Change = { runner, argv, what, hint, done: (err) => (err ? reject(err) : resolve()) };
    if (queue) return void queue.push(change);
    queues.set(runner.where, [change]);
    void drain(runner.where);
  });
}

/** Runs the host's queued changes, a batch at a time, until none is left. */
async function drain(host: string): Promise<void> {
  for (;;) {
    const queue = queues.get(host) ?? [];
    if (queue.length === 0) return void queues.delete(host);
    // The batch is taken once the lock is ours: changes that came while we waited join it.
    await withLocalLock(queue[0].runner, "exclusive", () => runBatch(queue.splice(0, MAX_BATCH))).catch((err: Error) => {
      for (const c of queue.splice(0)) c.done(err);
    });
  }
}

/** One locked ufw process for `batch` (on the first change's runner: its caller is waiting, so it is open). */
async function runBatch(batch: Change[]): Promise<void> {
  const runner = batch[0].runner;
  const changes = batch.map((c) => JSON.stringify(c.argv.slice(1)));
  let result;
  try {
    result = await runner.run(buildLockedArgv([["sh", "-c", LAUNCH, "sh", PYTHON_LINE, ...changes]]));
  } catch (err) {
    for (const c of batch) c.done(err as Error);
    return;
  }
  if (result.exitCode === UNAVAILABLE) return runOneByOne(batch);
  const lines = result.stdout.split("\n").filter((l) => l.startsWith(RESULT));
  batch.forEach((c, i) => {
    const out = parseResult(lines[i]);
    if (out?.ok) return c.done();
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
