import { acquireRemote, closeAllConnections } from "../../provider/host/connection-pool";
import { silent } from "../../provider/host/report";
import { Ssh2Runner } from "../../provider/host/ssh2-runner";
import { readLab } from "../support/lab";

/** The remote runner against the lab's tunnel host sshd: results exact, sessions reused. */
jest.setTimeout(60_000);

const lab = readLab();
const conn = { host: lab.thSshAddr, user: lab.thUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey };
let ssh: Ssh2Runner;

beforeAll(async () => {
  ssh = await Ssh2Runner.connect(conn);
});
afterAll(() => ssh.close());

test("stdout, stderr and the exit code come back separately and exactly", async () => {
  expect(await ssh.run(["sh", "-c", "printf out; printf err >&2; exit 3"])).toEqual({
    exitCode: 3,
    stdout: "out",
    stdoutBytes: Buffer.from("out"),
    stderr: "err",
    timedOut: false,
  });
  expect(await ssh.run(["printf", "%s\\n", "a b", "$(id)"])).toMatchObject({ exitCode: 0, stdout: "a b\n$(id)\n" });
});

test("input arrives byte for byte; without input a command reads EOF, not the session", async () => {
  expect((await ssh.run(["cat"], { input: "line 1\nno newline ünï" })).stdout).toBe("line 1\nno newline ünï");
  expect(await ssh.run(["cat"])).toMatchObject({ exitCode: 0, stdout: "" });
  expect((await ssh.run(["echo", "still in sync"])).stdout).toBe("still in sync\n");
});

test.each([
  ["a long-lived shell", "0"],
  ["an exec channel", "1"],
])("through %s, large output of multi-byte characters comes back whole, split across ssh packets", async (_how, exec) => {
  // One byte first, so that packet boundaries fall inside two-byte characters.
  const argv = ["awk", 'BEGIN { printf "x"; for (i = 0; i < 100000; i++) printf "é" }'];
  const before = process.env.PULUMI_SHARED_TUNNEL_EXEC;
  process.env.PULUMI_SHARED_TUNNEL_EXEC = exec;
  try {
    const r = await ssh.run(argv);
    expect(r.stdout === `x${"é".repeat(100000)}`).toBe(true);
    expect(r.stdoutBytes?.length).toBe(200001);
  } finally {
    if (before === undefined) delete process.env.PULUMI_SHARED_TUNNEL_EXEC;
    else process.env.PULUMI_SHARED_TUNNEL_EXEC = before;
  }
});

test("output that looks like the end marker cannot end a command early", async () => {
  const fake = "\nPST-00000000000000000000000000000000 0\n";
  expect((await ssh.run(["printf", "%s", fake])).stdout).toBe(fake);
});

test("sequential commands reuse one long-lived shell", async () => {
  const pids = new Set<string>();
  for (let i = 0; i < 5; i++) pids.add((await ssh.run(["sh", "-c", "echo $PPID"])).stdout);
  expect(pids.size).toBe(1);
});

test("a timed-out command gives a timed-out result and the next command still runs", async () => {
  expect(await ssh.run(["sleep", "5"], { timeoutMs: 300 })).toMatchObject({ timedOut: true, exitCode: undefined });
  expect((await ssh.run(["echo", "ok"])).stdout).toBe("ok\n");
});

test("30 commands at once through the shared connection all come back right", async () => {
  const shared = await acquireRemote(conn, silent);
  try {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => shared.run(["sh", "-c", `printf '%s' ${i}; exit $((${i} % 4))`])));
    results.forEach((r, i) => expect(r).toMatchObject({ stdout: String(i), exitCode: i % 4 }));
  } finally {
    await shared.close();
  }
});

// Last in this file: it closes the pool for good, as a provider leaving with its engine does.
test("closing every connection lets a running command finish, then refuses new ones", async () => {
  const shared = await acquireRemote(conn, silent);
  const running = shared.run(["sh", "-c", "sleep 0.5; echo finished"]);
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await closeAllConnections(5000);
  expect(await running).toMatchObject({ exitCode: 0, stdout: "finished\n" });
  expect(Date.now() - started).toBeLessThan(3000);
  await expect(shared.run(["true"])).rejects.toThrow(/exiting and has closed its connections/);
  await expect(acquireRemote(conn, silent)).rejects.toThrow(/exiting and has closed its connections/);
  await shared.close();
});
