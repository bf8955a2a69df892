import { PreflightError } from "../../../provider/errors";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { checkPortFree } from "../../../provider/listener/bind-checks";

const ok = (stdout: string): RunResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });

test("a process name and command line from the host are shown escaped when they hold control characters", async () => {
  const stat = "812 (x) S 1 812 812 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 987654 1000 200 0";
  const host: Runner = {
    where: "root@host:22",
    run: async (argv) =>
      argv[0] === "ss"
        ? ok('LISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("ev\x1b[8mil",pid=812,fd=3))\n')
        : ok(`${stat}\n/usr/bin/ngi\x1b]0;pwned\x07nx\0-g\0`),
    close: async () => {},
  };
  const err = await checkPortFree(host, "198.51.100.40", 8080).catch((e) => e);
  expect(err).toBeInstanceOf(PreflightError);
  expect(err.message).toContain("port 8080 is held by ngi\\x1b]0;pwned\\x07nx pid 812");
  expect(err.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
});
