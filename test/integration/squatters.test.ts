import { readFileSync } from "node:fs";
import { parseKeeperStatus } from "../../provider/keeper/keeper";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { demoConfig } from "../support/demo-config";
import { inNs, probe, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, killTagged } from "../support/leftovers";
import { TestStack } from "../support/stack";

/**
 * Issue 23, item 2: another local user of the tunnel host binds the tunnel's port in the moment
 * the keeper restarts ssh, and so receives the trusted clients' connections. Refresh names them
 * (pid, user, command) as drift and in lastError; create warned that any local user may bind that
 * port; and a port below the host's ip_unprivileged_port_start (set here in the lab's tunnel-host
 * namespace only) cannot be squatted, and draws no warning.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const stack = new TestStack("it-h23b-squat");
const PREFIX = `pst.shared-tunnel-demo.${stack.name}.`;
const SYSCTL = "net.ipv4.ip_unprivileged_port_start";

/**
 * The squatter: binds addr:port as soon as it can (one try a millisecond, for `window` seconds,
 * exit 1 if never), prints "bound", then holds the port `hold` seconds without accepting.
 */
const SQUAT = [
  "import socket, sys, time",
  "addr, port, window, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])",
  "end = time.time() + window",
  "while True:",
  "    s = socket.socket()",
  "    try:",
  "        s.bind((addr, port)); s.listen(); break",
  "    except OSError:",
  "        s.close()",
  "        if time.time() > end: sys.exit(1)",
  "        time.sleep(0.001)",
  "print('bound', flush=True)",
  "time.sleep(hold)",
].join("\n");
const squatArgv = (port: number, window: number, hold: number) => [
  "runuser",
  "-u",
  lab.thMalUser,
  "--",
  "/usr/bin/python3",
  "-c",
  SQUAT,
  lab.thTrusted,
  String(port),
  String(window),
  String(hold),
];

/** pids holding the port in the tunnel host (ss as root sees every owner). */
async function holders(port: number): Promise<number[]> {
  const ss = await probe(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]);
  return [...ss.matchAll(/pid=(\d+),/g)].map((m) => Number(m[1]));
}

const uid = (pid: number) => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
const unprivilegedStart = async () => Number((await probe(lab.nsTh, ["sysctl", "-n", SYSCTL])).trim());

afterAll(async () => {
  await probe(undefined, ["pkill", "-KILL", "-u", lab.thMalUser, "-f", "^/usr/bin/python3 -c import socket"], [0, 1]);
  await stack.run("destroy");
  await killTagged(PREFIX);
  await expectNothingLeftOnTunnelHost(lab, PREFIX);
});

test("a second local user binds the port during a restart: create warned; refresh names their pid, user and command, and so does lastError", async () => {
  const port = 8175;
  const start = await unprivilegedStart();
  expect(port).toBeGreaterThanOrEqual(start);
  const up = await stack.okWithLog("up", demoConfig(lab, { bindPort: String(port) }));
  expect(up.log).toMatch(new RegExp(`warning: .*port ${port} .*${SYSCTL.replace(/\./g, "\\.")} \\(${start}\\)`));
  const ours = Number(up.outputs.pid);
  expect(await holders(port)).toEqual([ours]);

  // The user waits for the port, trying every millisecond: ssh's restart (a login) loses the race.
  // Detached, holding none of the runner's pipes (it would wait for them; and "bound" into a closed one would end it).
  const detached = ["setsid", "-f", "sh", "-c", 'exec "$@" </dev/null >/dev/null 2>&1', "sh"];
  expect((await inNs(lab.nsTh, [...detached, ...squatArgv(port, 60, 240)])).exitCode).toBe(0);
  await probe(lab.nsTh, ["kill", "-KILL", String(ours)]);
  const squatter = await waitFor(async () => {
    const [pid] = await holders(port);
    return pid !== undefined && pid !== ours && uid(pid) !== "0" ? pid : undefined;
  }, 10_000);
  expect(squatter).toBeDefined();
  // The keeper's next start has failed on the taken port, and said so.
  const status = () => parseKeeperStatus(readFileSync(`${ROOT_STATE_DIR}/${String(up.outputs.tunnelTag)}.status`, "utf8"));
  expect(await waitFor(async () => (status()?.lastError?.includes(`pid ${squatter}`) ? true : undefined), 20_000)).toBe(true);

  const refreshed = await stack.okWithLog("refresh");
  const state = await stack.stateOutputs(":SharedTunnel");
  const named = [`pid ${squatter}`, `user ${lab.thMalUser}`, "python3 -c import socket"];
  for (const part of named) {
    expect(state?.drift).toContain(part);
    expect(state?.lastError).toContain(part);
  }
  expect(state).toMatchObject({ listening: false });
  expect(refreshed.log).toMatch(new RegExp(`warning: .*pid ${squatter}`));

  // The squatter gone, the keeper takes the port back (its backoff is at most 30 s) and refresh clears the drift.
  await probe(undefined, ["kill", "-KILL", String(squatter)]);
  expect(await waitFor(async () => (await holders(port)).length > 0 || undefined, 45_000)).toBe(true);
  await stack.ok("refresh");
  const after = await stack.stateOutputs(":SharedTunnel");
  expect(after).toMatchObject({ listening: true });
  expect(after?.drift).toBeUndefined();
  await stack.ok("destroy");
});

test("a port below the host's ip_unprivileged_port_start: no warning, and the user cannot take it during a restart", async () => {
  const port = 8176;
  const before = await unprivilegedStart();
  // Only in the lab's tunnel-host namespace: the sysctl is per network namespace.
  await probe(lab.nsTh, ["sysctl", "-q", "-w", `${SYSCTL}=${port + 1}`]);
  try {
    const up = await stack.okWithLog("up", demoConfig(lab, { bindPort: String(port) }));
    expect(up.log).not.toMatch(SYSCTL);
    const ours = Number(up.outputs.pid);
    const squat = inNs(lab.nsTh, squatArgv(port, 5, 0), 30_000);
    await probe(lab.nsTh, ["kill", "-KILL", String(ours)]);
    // For 5 s the user tried every millisecond, through the restart: never bound.
    expect(await squat).toMatchObject({ exitCode: 1, stdout: "" });
    const back = await waitFor(async () => (await holders(port)).find((p) => p !== ours), 10_000);
    expect(back).toBeDefined();
    expect(uid(Number(back))).toBe("0");
    const refreshed = await stack.okWithLog("refresh");
    expect(refreshed.log).not.toMatch(SYSCTL);
    const state = await stack.stateOutputs(":SharedTunnel");
    expect(state).toMatchObject({ listening: true });
    expect(state?.drift).toBeUndefined();
    await stack.ok("destroy");
  } finally {
    await probe(lab.nsTh, ["sysctl", "-q", "-w", `${SYSCTL}=${before}`]);
  }
});
