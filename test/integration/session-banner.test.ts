import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../provider/host/local-runner";
import type { Runner } from "../../provider/host/runner";
import { Ssh2Runner } from "../../provider/host/ssh2-runner";
import { SudoRunner } from "../../provider/host/sudo-runner";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, readLab, sshProcessesWith, tunnelHostUfwRules } from "../support/lab";
import { TestStack } from "../support/stack";

/**
 * The operator's ~/.ssh/rc prints a line on stdout and on stderr when each session starts, as
 * rc files (and /etc/ssh/sshrc, and shell rc files) often do. None of it may reach a command's output.
 */
jest.setTimeout(300_000);

const lab = readLab();
const sshDir = `${lab.dir}/op-home/.ssh`;
const banner = "banner from the operator's ~/.ssh/rc";
const opConn = { host: lab.thSshAddr, user: lab.thOpUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey };

beforeAll(() => {
  mkdirSync(sshDir, { recursive: true, mode: 0o755 });
  writeFileSync(`${sshDir}/rc`, `echo "${banner}"\necho "${banner} (stderr)" >&2\n`, { mode: 0o644 });
});
afterAll(() => rmSync(sshDir, { recursive: true, force: true }));

/** Runs `work` on a fresh sudo runner of the operator; `exec`: one exec channel per command instead of long-lived shells. */
async function withOperator<T>(exec: boolean, work: (runner: Runner) => Promise<T>): Promise<T> {
  const before = process.env.PULUMI_SHARED_TUNNEL_EXEC;
  if (exec) process.env.PULUMI_SHARED_TUNNEL_EXEC = "1";
  const ssh = await Ssh2Runner.connect(opConn);
  try {
    return await work(new SudoRunner(ssh));
  } finally {
    await ssh.close();
    if (before === undefined) delete process.env.PULUMI_SHARED_TUNNEL_EXEC;
    else process.env.PULUMI_SHARED_TUNNEL_EXEC = before;
  }
}

test("the rc file really prints its banner when a session starts (so the tests below can fail)", async () => {
  const r = await new LocalRunner().run(
    [
      "ssh",
      "-i",
      lab.thKey,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${lab.dir}/known_hosts_th`,
      `${lab.thOpUser}@${lab.thSshAddr}`,
      "true",
    ],
    { timeoutMs: 20_000 },
  );
  expect(r.stdout).toContain(banner);
});

test.each([
  ["a long-lived shell", false],
  ["an exec channel per command", true],
])("through %s, a command's output is only its own", async (_how, exec) => {
  await withOperator(exec, async (runner) => {
    // The first command of a new session is the one the banner arrives with.
    expect(await runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"])).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
    expect((await runner.run(["id", "-u"])).stdout).toBe("0\n");
    expect((await runner.run(["cat"], { input: "in ünï" })).stdout).toBe("in ünï");
  });
});

test("a GatedTunnel with an expiry is made, refreshed and destroyed by the operator, one exec per command", async () => {
  const stack = new TestStack("it-banner");
  const config = demoConfig(lab, { tunnelHostUser: lab.thOpUser, tunnelHostSudo: "true", bindPort: "8140", expiresAfter: "1h" });
  process.env.PULUMI_SHARED_TUNNEL_EXEC = "1";
  try {
    const out = await stack.ok("up", config);
    // The deadline was read from the host's `date +%s`: a banner in its output would make it NaN or fail.
    const expiresIn = Date.parse(String(out.expiresAt)) - Date.now();
    expect(expiresIn).toBeGreaterThan(55 * 60_000);
    expect(expiresIn).toBeLessThan(65 * 60_000);
    expect(await fetchFrom(lab.nsTc, String(out.url))).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, String(out.url))).toBeUndefined();
    // Refresh finds every resource as it was made (a misread listing would report it deleted).
    expect(Object.keys(await stack.ok("refresh", config))).toEqual(["same"]);
    await stack.ok("destroy", config);
    expect(await sshProcessesWith(String(out.tunnelTag))).toEqual([]);
    expect(await tunnelHostUfwRules(lab)).not.toContain(String(out.ruleTag));
  } finally {
    delete process.env.PULUMI_SHARED_TUNNEL_EXEC;
    await stack.run("destroy", config);
  }
});
