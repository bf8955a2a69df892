import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../../provider/host/local-runner";
import { quoteArgv } from "../../../provider/host/quote";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { traced } from "../../../provider/host/tracing-runner";

const dir = mkdtempSync(path.join(tmpdir(), "pst-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok: RunResult = { exitCode: 0, stdout: "", stderr: "", timedOut: false };

/** A runner that runs nothing: what is traced is only what the tracing runner writes. */
function fake(result: RunResult = ok): Runner & { calls: string[][] } {
  const calls: string[][] = [];
  return { where: "root@198.18.0.2:22", calls, run: async (argv) => (calls.push([...argv]), result), close: async () => {} };
}

/** `inner` wrapped the way production wraps it, with PULUMI_SHARED_TUNNEL_TRACE naming `file`. */
function tracing(inner: Runner, file: string): Runner {
  const before = process.env.PULUMI_SHARED_TUNNEL_TRACE;
  process.env.PULUMI_SHARED_TUNNEL_TRACE = file;
  try {
    return traced(inner);
  } finally {
    if (before === undefined) delete process.env.PULUMI_SHARED_TUNNEL_TRACE;
    else process.env.PULUMI_SHARED_TUNNEL_TRACE = before;
  }
}

let files = 0;
/** A new trace file, so that it holds one command (a quoted argument may span lines). */
const freshFile = () => path.join(dir, `trace-${++files}.log`);

/** The command field of a trace file holding one line (time, host, duration, exit code, command). */
function tracedCommand(file: string): string {
  return readFileSync(file, "utf8").replace(/\n$/, "").split("\t").slice(4).join("\t");
}

test("a traced line holds the command quoted exactly as quoteArgv quotes it, with host and exit code", async () => {
  const file = freshFile();
  const argv = ["sh", "-c", 'echo "$1" | wc -c', "sh", "it's a b; $(id) `x` *"];
  const inner = fake({ ...ok, exitCode: 3 });
  await tracing(inner, file).run(argv);
  expect(inner.calls).toEqual([argv]);
  const fields = readFileSync(file, "utf8").split("\t");
  expect(fields[1]).toBe("root@198.18.0.2:22");
  expect(fields[3]).toBe("3");
  expect(tracedCommand(file)).toBe(quoteArgv(argv));
});

test.each([["a b"], ["it's"], ['"$HOME"'], ["$(touch /tmp/pst-canary)"], ["a\tb"], ["line\nbreak"], ["ünïcode ☕"], [""]])(
  "the traced command, pasted into sh, hands the program %j unchanged",
  async (arg) => {
    const file = freshFile();
    await tracing(fake(), file).run(["printf", "%s", arg]);
    const traced = tracedCommand(file);
    expect(traced).toBe(quoteArgv(["printf", "%s", arg]));
    expect((await new LocalRunner().run(["sh", "-c", traced])).stdout).toBe(arg);
  },
);

test("an argv quoteArgv refuses is traced as JSON, and the command's result is still returned", async () => {
  const file = freshFile();
  const argv = ["printf", "a\rb"];
  expect(await tracing(fake(), file).run(argv)).toBe(ok);
  expect(tracedCommand(file)).toBe(JSON.stringify(argv));
});

test("a command whose runner threw (no answer, cut-off output) is traced with its error, and the error still reaches the caller", async () => {
  const file = freshFile();
  const failing: Runner = {
    where: "root@198.18.0.2:22",
    run: async () => {
      throw Object.assign(new Error("run ss on root@198.18.0.2:22 failed: its output did not arrive whole\n  command: ss"), {
        name: "IncompleteOutputError",
      });
    },
    close: async () => {},
  };
  await expect(tracing(failing, file).run(["ss", "-H"])).rejects.toThrow(/did not arrive whole/);
  const fields = readFileSync(file, "utf8").split("\t");
  expect(fields[3]).toBe('threw IncompleteOutputError: "run ss on root@198.18.0.2:22 failed: its output did not arrive whole"');
  expect(tracedCommand(file)).toBe("'ss' '-H'");
});
