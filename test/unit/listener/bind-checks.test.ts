import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { PreflightError } from "../../../provider/errors";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { checkPortFree } from "../../../provider/listener/bind-checks";

const ok = (stdout: string): RunResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });

test("a process name and command line from the host are shown escaped when they hold control characters", async () => {
  const host: Runner = {
    where: "root@host:22",
    run: async (argv) =>
      argv[0] === "ss"
        ? ok('LISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("ev\x1b[8mil",pid=812,fd=3))\n')
        : ok(`/usr/bin/ngi\x1b]0;pwned\x07nx\0-g\0`),
    close: async () => {},
  };
  const err = await checkPortFree(host, "198.51.100.40", 8080).catch((e) => e);
  expect(err).toBeInstanceOf(PreflightError);
  expect(err.message).toContain("port 8080 is held by ngi\\x1b]0;pwned\\x07nx pid 812");
  expect(err.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
});

describe("a listener counts as our own forward's only while its pid is ours by owner too", () => {
  const local = new LocalRunner();
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

  /** A node listening on a free loopback port, as `uid` (another user) or as root; its pid and port. */
  async function listenerAs(uid?: number): Promise<{ pid: number; port: number }> {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const ids = uid === undefined ? {} : { uid, gid: uid };
    const child = spawn(process.execPath, ["-e", `require("net").createServer().listen(${port}, "127.0.0.1", () => console.log("up"))`], ids);
    children.push(child);
    await new Promise((resolve) => child.stdout?.once("data", resolve));
    return { pid: child.pid as number, port };
  }

  test("root's listener named as ours is no clash", async () => {
    const { pid, port } = await listenerAs();
    await expect(checkPortFree(local, "127.0.0.1", port, [pid])).resolves.toBeUndefined();
  });

  test("another user's listener is a clash, even when its pid was handed in as ours (a stale or forged listing)", async () => {
    const { pid, port } = await listenerAs(64104);
    await expect(checkPortFree(local, "127.0.0.1", port, [pid])).rejects.toThrow(`port ${port} is held by`);
  });
});
