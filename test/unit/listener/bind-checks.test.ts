import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { PreflightError } from "../../../provider/errors";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { CommandFailedError } from "../../../provider/errors";
import { checkBindAddress, checkPortFree, readBindTable } from "../../../provider/listener/bind-checks";

const ok = (stdout: string, exitCode = 0): RunResult => ({ exitCode, stdout, stderr: "", timedOut: false });
const IP_LINE = "2: eth0    inet 198.51.100.40/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever preferred_lft forever\n";

/** A host whose one listing command prints `stdout` and exits `exitCode`. */
function listing(stdout: string, exitCode = 0): Runner {
  return { where: "root@host:22", run: async () => ok(stdout, exitCode), close: async () => {} };
}

test("one command lists both: the addresses before the marker, the listeners after it", async () => {
  const host = listing(`${IP_LINE}--pst-listeners--\nLISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("nginx",pid=812,fd=3))\n`);
  const table = await readBindTable(host);
  expect(table.addresses).toEqual(["198.51.100.40"]);
  expect(table.listeners).toEqual([{ address: "198.51.100.40", port: 8080, processes: [{ name: "nginx", pid: 812, fd: 3 }] }]);
  expect(() => checkBindAddress(host, table, "198.51.100.40")).not.toThrow();
  expect(() => checkBindAddress(host, table, "198.51.100.41")).toThrow("198.51.100.41 is not an address of the tunnel host");
});

test("a listing that failed or stopped short fails the preflight, naming both listings; it is never read as 'no listeners'", async () => {
  for (const host of [listing(`${IP_LINE}--pst-listeners--\n`, 127), listing(IP_LINE.slice(0, 20)), listing("", 1)]) {
    const err = await readBindTable(host).catch((e) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(err.command).toBe("'ip' '-o' 'addr' 'show'; 'ss' '-H' '-t' '-l' '-n' '-p'");
  }
});

test("the real listing on this machine names its loopback address and a listener started before it", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const table = await readBindTable(new LocalRunner());
    expect(table.addresses).toContain("127.0.0.1");
    expect(table.listeners.some((l) => l.port === port && l.address === "127.0.0.1" && l.processes.some((p) => p.pid === process.pid))).toBe(true);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a process name and command line from the host are shown escaped when they hold control characters", async () => {
  const host: Runner = {
    where: "root@host:22",
    run: async (argv) =>
      argv[0] === "sh" && argv[2].includes("ss -H")
        ? ok(`${IP_LINE}--pst-listeners--\nLISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("ev\x1b[8mil",pid=812,fd=3))\n`)
        : ok(`/usr/bin/ngi\x1b]0;pwned\x07nx\0-g\0`),
    close: async () => {},
  };
  const err = await checkPortFree(host, await readBindTable(host), "198.51.100.40", 8080).catch((e) => e);
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
    await expect(checkPortFree(local, await readBindTable(local), "127.0.0.1", port, [pid])).resolves.toBeUndefined();
  });

  test("another user's listener is a clash, even when its pid was handed in as ours (a stale or forged listing)", async () => {
    const { pid, port } = await listenerAs(64104);
    await expect(checkPortFree(local, await readBindTable(local), "127.0.0.1", port, [pid])).rejects.toThrow(`port ${port} is held by`);
  });
});
