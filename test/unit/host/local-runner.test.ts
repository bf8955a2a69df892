import { LocalRunner } from "../../../provider/host/local-runner";
import { quoteArgv } from "../../../provider/host/quote";
import { runChecked } from "../../../provider/host/runner";
import { CommandFailedError } from "../../../provider/errors";

const runner = new LocalRunner();

test("runs argv with no shell: metacharacters stay data", async () => {
  const r = await runner.run(["printf", "%s|", "$(id)", "a;b", "`x`", "*"]);
  expect(r).toMatchObject({ exitCode: 0, stdout: "$(id)|a;b|`x`|*|" });
});

test("reports a non-zero exit with stderr instead of throwing", async () => {
  const r = await runner.run(["sh", "-c", "echo oops >&2; exit 3"]);
  expect(r).toMatchObject({ exitCode: 3, stderr: "oops\n", timedOut: false });
});

test("feeds input on stdin (how secrets travel)", async () => {
  expect((await runner.run(["cat"], { input: "secret\n" })).stdout).toBe("secret\n");
});

test("a command killed by a signal is a result with no exit code, not an error", async () => {
  const r = await runner.run(["sh", "-c", "kill -TERM $$"]);
  expect(r).toMatchObject({ exitCode: undefined, timedOut: false });
});

test("times out and kills", async () => {
  const r = await runner.run(["sleep", "5"], { timeoutMs: 100 });
  expect(r.timedOut).toBe(true);
});

test("runChecked throws a CommandFailedError with a copy-pasteable command", async () => {
  const err = await runChecked(runner, ["sh", "-c", "echo nope >&2; exit 4", "it's"], { what: "do a thing", hint: "try again" }).catch((e) => e);
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(err.exitCode).toBe(4);
  expect(err.message).toContain("do a thing on local failed: exit code 4: nope");
  expect(err.message).toContain("hint: try again");
  // The printed command, run through a real shell, is the same command.
  const again = await runner.run(["sh", "-c", err.command]);
  expect(again).toMatchObject({ exitCode: 4, stderr: "nope\n" });
});

test("a missing binary is an error, not an exit code", async () => {
  await expect(runner.run(["/nonexistent/binary"])).rejects.toThrow(/run \/nonexistent\/binary on local failed: could not start it/);
});

test.each([["a b"], ["$(touch /tmp/pst-canary)"], ["'\"\\"], ["-oProxyCommand=x"], ["\n"], ["ünïcode"], ["~"], ["!!'x'"]])(
  "quoteArgv round-trips %j through sh",
  async (arg) => {
    const r = await runner.run(["sh", "-c", `printf %s ${quoteArgv([arg])}`]);
    expect(r.stdout).toBe(arg);
  },
);

test.each([["a\0b"], ["a\rb"], ["a\x1bb"]])("quoteArgv refuses %j rather than drop a character", (arg) => {
  expect(() => quoteArgv(["echo", arg])).toThrow(/NUL byte or a terminal control character/);
});

describe("where and with what every local command starts", () => {
  const saved = { cwd: process.cwd(), env: { ...process.env } };
  afterEach(() => {
    process.chdir(saved.cwd);
    for (const k of ["BASH_ENV", "ENV", "PYTHONPATH", "PERL5LIB", "PERL5OPT"]) {
      if (saved.env[k] === undefined) delete process.env[k];
      else process.env[k] = saved.env[k];
    }
  });

  test("in /, whatever directory the caller stands in (root running reap from a directory another user can write)", async () => {
    process.chdir("/tmp");
    expect((await runner.run(["pwd"])).stdout).toBe("/\n");
  });

  test("without the caller's BASH_ENV, ENV, PYTHONPATH and PERL5*: a bash started by what we start sources nothing", async () => {
    Object.assign(process.env, {
      BASH_ENV: "/nonexistent/bash_env",
      ENV: "/nonexistent/env",
      PYTHONPATH: "/x",
      PERL5LIB: "/x",
      PERL5OPT: "-Mx",
      KEPT: "yes",
    });
    const r = await runner.run([
      "sh",
      "-c",
      'printf "%s|" "${BASH_ENV-unset}" "${ENV-unset}" "${PYTHONPATH-unset}" "${PERL5LIB-unset}" "${PERL5OPT-unset}" "$KEPT"',
    ]);
    expect(r.stdout).toBe("unset|unset|unset|unset|unset|yes|");
    delete process.env.KEPT;
  });
});
