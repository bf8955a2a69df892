import { readFileSync } from "node:fs";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { parseKeeperStatus, type KeeperStatus } from "../../provider/keeper/keeper";
import { waitFor } from "../../provider/state/wait-for";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, probe, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith, killTagged, stateFilesWith } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { TestStack } from "../support/stack";

/**
 * The keeper through real `pulumi up`: a forward that dies comes back with no pulumi command run,
 * a gateway that goes away is retried with backoff, and destroy leaves nothing, whatever the keeper
 * was doing. An untrusted client keeps trying the shared port during every test and never gets in.
 * keepAliveSeconds 2: an ssh whose gateway went silent exits after about 6 s.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const stack = new TestStack("it-keeper");
const PREFIX = `pst.shared-tunnel-demo.${stack.name}.`;
const port = 8134;
const config = demoConfig(lab, { bindPort: String(port), keepAliveSeconds: "2" });
const targets = [{ host: lab.thTrusted, port }];
const REACHED = "internal service reached";
const GW_TABLE = "pstkeepertest";
let out: Record<string, unknown>;

/** The ssh holding the shared port, by `ss` in the tunnel host (undefined: nobody listens). */
async function listenerPid(): Promise<number | undefined> {
  const ss = await probe(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]);
  const m = /pid=(\d+),/.exec(ss);
  return m ? Number(m[1]) : undefined;
}

/** Polls every 10 ms (the thing measured is sub-second) until `probe` answers; the time it took. */
async function timeUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

function keeperStatus(tag: unknown): KeeperStatus {
  const status = parseKeeperStatus(readFileSync(`${ROOT_STATE_DIR}/${String(tag)}.status`, "utf8"));
  if (!status) throw new Error(`no keeper status for ${String(tag)}`);
  return status;
}

/** The gateway stops answering the tunnel host's ssh: "drop" (held connecting), "reject" (refused at once), or back. */
async function gateway(mode: "drop" | "reject" | "open"): Promise<void> {
  await inNs(lab.nsGw, ["nft", "delete", "table", "inet", GW_TABLE]);
  if (mode === "open") return;
  const verdict = mode === "drop" ? "drop" : "reject with tcp reset";
  const script = `table inet ${GW_TABLE} { chain in { type filter hook input priority 0; policy accept; tcp dport 22 ${verdict}; }; }`;
  await probe(lab.nsGw, ["nft", script]);
}

const up = async () => (await whileUntrustedTries(lab.nsUc, targets, () => stack.ok("up", config))).result;

beforeAll(async () => {
  out = await up();
});

afterAll(async () => {
  await gateway("open");
  await stack.run("destroy");
  await killTagged(PREFIX);
});

test("kill -9 of the ssh: the listener is back within 1 s with no pulumi run; refresh counts the restart; up then changes nothing", async () => {
  await whileUntrustedTries(lab.nsUc, targets, async () => {
    expect(await listenerPid()).toBe(out.pid);
    await probe(lab.nsTh, ["kill", "-KILL", String(out.pid)]);
    const tookMs = await timeUntil(async () => ![undefined, out.pid].includes(await listenerPid()), 5000);
    expect(tookMs).toBeLessThan(1000);
    expect(await fetchFrom(lab.nsTc, String(out.url))).toBe(REACHED);
    expect(await stack.ok("refresh")).not.toHaveProperty("delete");
    const state = await stack.stateOutputs(":SharedTunnel");
    expect(state).toMatchObject({ restarts: 1, listening: true, pid: await listenerPid(), keeperPid: out.keeperPid });
    expect(Date.parse(String(state?.lastRestartAt))).toBeGreaterThan(Date.now() - 120_000);
    expect((await stack.run("preview", config, {}, ["--expect-no-changes"])).exitCode).toBe(0);
  });
});

test("the gateway unreachable for 60 s: the keeper backs off (a dozen starts at most), refresh says not listening, and it is back within the cap", async () => {
  await whileUntrustedTries(lab.nsUc, targets, async () => {
    const before = keeperStatus(out.tunnelTag).restarts;
    await gateway("drop");
    const downAt = Date.now();
    // The ssh notices the silence by its keepalives (3 x 2 s) and exits; the keeper starts again and backs off.
    await timeUntil(async () => (await listenerPid()) === undefined, 20_000);
    await waitFor(async () => (Date.now() - downAt > 40_000 ? true : undefined), 41_000);
    expect(await stack.ok("refresh")).not.toHaveProperty("delete");
    expect(await stack.stateOutputs(":SharedTunnel")).toMatchObject({ listening: false });
    await waitFor(async () => (Date.now() - downAt > 60_000 ? true : undefined), 21_000);
    const starts = keeperStatus(out.tunnelTag).restarts - before;
    expect(starts).toBeGreaterThanOrEqual(2);
    expect(starts).toBeLessThanOrEqual(12);
    await gateway("open");
    // The longest wait is the 30 s cap, then one connect.
    const backMs = await timeUntil(async () => (await listenerPid()) !== undefined, 45_000);
    expect(backMs).toBeLessThan(35_000);
    expect(await fetchFrom(lab.nsTc, String(out.url))).toBe(REACHED);
  });
});

test("the keeper killed: refresh reports the tunnel gone and ends what it left; up brings a new one", async () => {
  await whileUntrustedTries(lab.nsUc, targets, async () => {
    await probe(lab.nsTh, ["kill", "-KILL", String(out.keeperPid)]);
    expect(await stack.ok("refresh")).toMatchObject({ delete: 1 });
    expect({
      ssh: await sshProcessesWith(String(out.tunnelTag)),
      keepers: await keepersWith(String(out.tunnelTag)),
      files: stateFilesWith(String(out.tunnelTag)),
    }).toEqual({ ssh: [], keepers: [], files: [] });
    const again = await stack.ok("up", config);
    expect(again.keeperPid).not.toBe(out.keeperPid);
    expect(await fetchFrom(lab.nsTc, String(again.url))).toBe(REACHED);
    out = again;
  });
});

test.each([
  ["backing off between failed starts", "reject" as const, (s: KeeperStatus) => s.state === "backoff"],
  ["holding an ssh in its connect", "drop" as const, (s: KeeperStatus) => s.state === "running" && s.restarts > 0],
])("destroy while the keeper is %s leaves no keeper, ssh, rule or file", async (_what, mode, busy) => {
  await whileUntrustedTries(lab.nsUc, targets, async () => {
    const current = await stack.ok("up", config);
    await gateway(mode);
    await probe(lab.nsTh, ["kill", "-KILL", String(await listenerPid())]);
    expect(await waitFor(async () => busy(keeperStatus(current.tunnelTag)) || undefined, 15_000)).toBe(true);
    await stack.ok("destroy");
    await gateway("open");
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  });
});

test("a stack from before keepers (a lone ssh -f) refreshes as it did; its next up replaces the forward alone, saying why", async () => {
  const current = await stack.ok("up", config);
  const tag = String(current.tunnelTag);
  // Turn the kept forward into what an older version left: the same ssh, started with -f, no keeper.
  await probe(lab.nsTh, ["kill", "-TERM", "--", `-${String(current.keeperPid)}`]);
  await timeUntil(async () => (await listenerPid()) === undefined, 10_000);
  await probe(lab.nsTh, [
    "sh",
    "-c",
    `rm -f ${ROOT_STATE_DIR}/${tag}.keeper ${ROOT_STATE_DIR}/${tag}.argv ${ROOT_STATE_DIR}/${tag}.restart ${ROOT_STATE_DIR}/${tag}.status`,
  ]);
  const { command } = (await stack.stateOutputs(":SharedTunnel")) ?? {};
  await probe(lab.nsTh, ["sh", "-c", String(command).replace("'ssh' '-N'", "'ssh' '-f' '-N'")]);
  const legacyPid = await waitFor(listenerPid, 10_000);
  const stat = readFileSync(`/proc/${legacyPid}/stat`, "utf8");
  const state = JSON.parse((await stack.run("export")).stdout);
  const forward = state.deployment.resources.find((r: { type: string }) => r.type.endsWith(":SharedTunnel"));
  for (const key of ["keeperPid", "keeperStartTicks", "restarts", "listening", "restart"]) delete forward.outputs[key];
  delete forward.inputs.restart;
  Object.assign(forward.outputs, { pid: legacyPid, processStartTicks: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] });
  await stack.importState(state);

  expect(await stack.ok("refresh")).not.toHaveProperty("delete");
  // The diff names the reason: the new `restart` input, which the old state lacks.
  const preview = await stack.run("preview", config);
  expect(preview.stderr).toMatch(
    /\+-\s*pulumi-nodejs:dynamic\/pulumi-shared-tunnel:SharedTunnel[\s\S]*internal-service-forward[\s\S]*\+ restart\s*: "always"/,
  );
  const upgraded = await whileUntrustedTries(lab.nsUc, targets, () => stack.ok("up", config));
  expect(upgraded.result.ruleTag).toBe(current.ruleTag);
  expect(upgraded.result.keeperPid).toBeDefined();
  expect(await listenerPid()).toBe(upgraded.result.pid);
  expect(await sshProcessesWith(tag)).toEqual([]);
  expect(stateFilesWith(tag)).toEqual([]);
  expect(await fetchFrom(lab.nsTc, String(upgraded.result.url))).toBe(REACHED);
  await stack.ok("destroy");
  await expectNothingLeftOnTunnelHost(lab, PREFIX);
});
