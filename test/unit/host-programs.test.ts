import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { armWatchdog } from "../../provider/expiry/watchdog";
import { watchdogFiles } from "../../provider/expiry/watchdog-script";
import { LAUNCH, LIVE, PYTHON_LINE, RESULT, SAVED, UNAVAILABLE } from "../../provider/firewall/ufw-batch";
import type { RunOptions, RunResult, Runner } from "../../provider/host/runner";
import { startKeeper } from "../../provider/keeper/keeper";
import { keeperFileNames } from "../../provider/keeper/keeper-script";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { STATE_DIR_OK } from "./state-dir-fixture";

/**
 * What runs on a tunnel host as root is the package's own files, sent as they are: no program text
 * is assembled at run time. What is particular to a tunnel or a rule travels as values only.
 */
const ROOT = path.resolve(__dirname, "../../..");
const source = (file: string) => readFileSync(path.join(ROOT, "provider", file), "utf8");
const TAG = "pst.p.s.r.1795617874";

/** A host that answers every command with success and records what each private file write sent. */
function recordingHost() {
  const written = new Map<string, string>();
  const runner: Runner = {
    where: "recording",
    close: async () => {},
    run: async (argv: readonly string[], options: RunOptions = {}): Promise<RunResult> => {
      const ok = (stdout = "", exitCode = 0): RunResult => ({ exitCode, stdout, stderr: "", timedOut: false });
      if (argv[0] === "sh" && argv[2].startsWith("umask 077\nu=$(id -u)")) return ok(STATE_DIR_OK);
      // writePrivateFiles: sh -c WRITE_MANY sh DIR (PATH MODE SIZE)..., the contents one after another
      // on stdin; or start-keeper.sh: sh -c START sh WRITE_MANY SCRIPT LOOK W DIR (PATH MODE SIZE)... LOOK_ARG...
      const starting = argv[0] === "sh" && argv[2].includes('setsid -f sh "$script"');
      if (starting || (argv[0] === "sh" && argv[2].includes('mv -fT -- "$t" "$path"'))) {
        const triples = starting ? argv.slice(9, 8 + Number(argv[7])) : argv.slice(5);
        let input = Buffer.from(String(options.input));
        for (let i = 0; i + 2 < triples.length; i += 3) {
          const size = Number(triples[i + 2]);
          written.set(triples[i], input.subarray(0, size).toString());
          input = input.subarray(size);
        }
        expect(input.length).toBe(0);
      }
      // The watchdog's start: its deadline file is "gone" at once, which counts as started.
      if (argv[0] === "test" && argv[1] === "-e") return ok("", 1);
      return ok();
    },
  };
  return { runner, written };
}

/** Values only: a comment, then `name='quoted'` lines (quoteArgv's quoting: '...' and \'), nothing a shell would run. */
const VALUES_ONLY = /^# [^\n]*\n(?:[a-z_]+=(?:'[^']*'|\\')+\n)+$/;

test("the keeper sent is keeper.sh, byte for byte; its settings are values only", async () => {
  const host = recordingHost();
  const spec = { dir: ROOT_STATE_DIR, tag: TAG, files: [`${TAG}.log`, `${TAG}.key`], secrets: [`${TAG}.key`] };
  await startKeeper(host.runner, spec, ["ssh", "-N", "gw"], 1795617999, [], { program: "exit 0", args: [] });
  const names = keeperFileNames(TAG);
  expect(host.written.get(`${ROOT_STATE_DIR}/${names.script}`)).toBe(source("keeper/keeper.sh"));
  expect(host.written.get(`${ROOT_STATE_DIR}/${names.settings}`)).toMatch(VALUES_ONLY);
});

test("the watchdog sent is watchdog.sh, byte for byte; its settings are values only", async () => {
  const host = recordingHost();
  const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
  await armWatchdog(host.runner, { tag: TAG, forwardsOf: "pst.p.s.g.", rules: { backend: "ufw", rules: [rule] }, files: [`${TAG}.log`] }, 1795617999);
  const files = watchdogFiles(ROOT_STATE_DIR, TAG);
  expect(host.written.get(files.script)).toBe(source("expiry/watchdog.sh"));
  expect(host.written.get(files.settings)).toMatch(VALUES_ONLY);
});

test("the ufw batch sends ufw-batch.sh and ufw-batch.py as they are, each as one line", () => {
  const launcher = source("firewall/ufw-batch.sh");
  expect(`${LAUNCH}\n`).toBe(launcher);
  expect(LAUNCH).not.toContain("\n");
  // exec(<JSON string literal>): a Python string literal too, of the file's exact text.
  expect(PYTHON_LINE).toMatch(/^exec\(".*"\)$/);
  expect(PYTHON_LINE).not.toContain("\n");
  expect(JSON.parse(PYTHON_LINE.slice("exec(".length, -1))).toBe(source("firewall/ufw-batch.py"));
  // The values the module reads the batch's answers by are the ones the files say.
  expect(launcher).toContain(`exit ${UNAVAILABLE}`);
  expect(source("firewall/ufw-batch.py")).toContain(`sys.exit(${UNAVAILABLE})`);
  expect(source("firewall/ufw-batch.py")).toContain(`"${RESULT}"`);
  expect(source("firewall/ufw-batch.py")).toContain(`"${LIVE}"`);
  expect(source("firewall/ufw-batch.py")).toContain(`"${SAVED}"`);
});

test("npm run lint checks every host program: shellcheck and dash -n on the sh, a compile of the Python", () => {
  expect(readFileSync(path.join(ROOT, "scripts/lint.sh"), "utf8")).toContain("bash scripts/lint-host-programs.sh");
  const listed = spawnSync("bash", ["scripts/lint-host-programs.sh", "--list"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n");
  for (const file of [
    "keeper/keeper.sh",
    "keeper/stop-keeper.sh",
    "keeper/start-keeper.sh",
    "keeper/first-look.sh",
    "expiry/watchdog.sh",
    "firewall/ufw-batch.sh",
    "guard/guard-wake.sh",
    "state/write-files.sh",
    "host/session.sh",
    "firewall/ufw-batch.py",
  ])
    expect(listed).toContain(`provider/${file}`);
  const checked = spawnSync("bash", ["scripts/lint-host-programs.sh"], { cwd: ROOT, encoding: "utf8" });
  expect(checked.stderr + checked.stdout).toBe("");
  expect(checked.status).toBe(0);
});
