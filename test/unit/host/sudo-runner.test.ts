import { CommandFailedError } from "../../../provider/errors";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunOptions, Runner } from "../../../provider/host/runner";
import { SudoRunner } from "../../../provider/host/sudo-runner";

// Real sudo, real users: root may sudo; "nobody" has no sudoers rule.
const local = new LocalRunner();
const asNobody: Runner = {
  where: "local as nobody",
  run: (argv: readonly string[], options?: RunOptions) => local.run(["runuser", "-u", "nobody", "--", ...argv], options),
  close: async () => {},
};

test("runs argv through sudo -n", async () => {
  const r = await new SudoRunner(local).run(["id", "-u"]);
  expect(r).toMatchObject({ exitCode: 0, stdout: "0\n" });
});

test("a user without a NOPASSWD rule gets an error that says so, with the command and a hint", async () => {
  const err = await new SudoRunner(asNobody).run(["ufw", "status"]).catch((e) => e);
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(err.message).toContain("run a command through sudo on local as nobody (sudo) failed: sudo refused to run it without a password");
  expect(err.command).toBe("'sudo' '-n' '--' 'ufw' 'status'");
  expect(err.hint).toMatch(/NOPASSWD/);
});

test("the command's own failures pass through as results", async () => {
  const r = await new SudoRunner(local).run(["sh", "-c", "exit 5"]);
  expect(r.exitCode).toBe(5);
});
