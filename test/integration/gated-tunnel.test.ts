import { readLab, fetchFrom, inNs, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { expectNoFirewallTrace, expectNothingLeftOnTunnelHost, stateFilesWith } from "../support/leftovers";
import { demoConfig } from "../support/demo-config";
import { TestStack } from "../support/stack";
import { LocalRunner } from "../../provider/host/local-runner";
import { waitForExit } from "../../provider/state/process-identity";
import { waitFor } from "../../provider/state/wait-for";

/**
 * The demo stack (Pulumi.yaml at the repo root) through real `pulumi up/refresh/destroy`, against
 * the lab: a trusted client reaches the gateway's internal service through the shared forward, an
 * untrusted one does not, and destroy leaves no process and no rule.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();

function stackConfig(bindPort: number, remote: boolean): Record<string, string> {
  return demoConfig(lab, { bindPort: String(bindPort) }, remote);
}

/** The pid listening on the tunnel host's trusted address and `port`, once there is one. */
async function waitForListener(port: number): Promise<number> {
  const pid = await waitFor(async () => {
    const ss = await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]);
    return /pid=(\d+)/.exec(ss.stdout)?.[1];
  }, 10_000);
  if (!pid) throw new Error(`nothing listens on :${port}`);
  return Number(pid);
}

/** No process, rule (saved or live) or file of the stack on the tunnel host, and the trusted client is out too. */
async function expectNothingLeft(stackName: string, url: string): Promise<void> {
  await expectNothingLeftOnTunnelHost(lab, `pst.shared-tunnel-demo.${stackName}.`);
  expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
}

describe.each([
  ["remote tunnel host over ssh2", true, 8080],
  ["local mode: pulumi runs on the tunnel host", false, 8081],
])("%s", (_title, remote, port) => {
  const stack = new TestStack(`it-${remote ? "remote" : "local"}`, remote ? undefined : lab.nsTh);
  const config = stackConfig(port, remote);
  let outputs: Record<string, unknown> = {};

  afterAll(async () => {
    await stack.run("destroy");
  });

  test("up shares the service with the trusted client only, showing its slow steps on each resource's row", async () => {
    const up = await stack.okWithLog("up", config);
    outputs = up.outputs;
    // Progress lines reach the CLI (a dynamic provider's pulumi.log does not) and name the resource doing the step.
    expect(up.log).toMatch(/FirewallAllow internal-service-allow creating \(\d+s\) checking that 127\.0\.0\.1:8000 answers through the gateway \d/);
    expect(up.log).toMatch(/FirewallAllow internal-service-allow creating \(\d+s\) adding allow \S+ to port \d+\/tcp \(ufw\)/);
    expect(up.log).toMatch(/SharedTunnel internal-service-forward creating \(\d+s\) starting ssh -L \S+ to 127\.0\.0\.1:8000 via/);
    expect(up.log).toMatch(/SharedTunnel internal-service-forward creating \(\d+s\) waiting for \S+ to be held by the ssh the keeper started/);
    // Status lines, not diagnostics: the Diagnostics block at the end (if any) stays free of them.
    const diagnostics = up.log.includes("Diagnostics:") ? up.log.slice(up.log.indexOf("Diagnostics:"), up.log.lastIndexOf("Resources:")) : "";
    expect(diagnostics).not.toMatch(/checking that|starting ssh|waiting for/);
    expect(outputs.url).toBe(`http://${lab.thTrusted}:${port}/`);
    expect(outputs.tunnelTag).toMatch(/^pst\.shared-tunnel-demo\.it-(remote|local)\.internal-service-forward\.[0-9a-f]{12}\.\d+$/);
    expect(await sshProcessesWith(String(outputs.tunnelTag))).toHaveLength(1);
    expect(await fetchFrom(lab.nsTc, outputs.url as string)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, outputs.url as string)).toBeUndefined();
    // The listener belongs to the pid the stack reports.
    const ss = await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]);
    expect(ss.stdout).toContain(`pid=${String(outputs.pid)},`);
    expect(await tunnelHostUfwRules(lab)).toContain(String(outputs.ruleTag));
  });

  test("a second preview with the same config shows no changes", async () => {
    const summary = await stack.ok("preview");
    expect(Object.keys(summary).filter((op) => op !== "same")).toEqual([]);
  });

  test("refresh after the keeper was killed out of band reports the tunnel gone, and removes what it left; up brings it back", async () => {
    // KILL: the keeper cannot stop its ssh, which is left running, orphaned: refresh must end it.
    await inNs(lab.nsTh, ["kill", "-KILL", String(outputs.keeperPid)]);
    expect(await waitForExit(new LocalRunner(), outputs.keeperPid as number, 5000)).toBe(true);
    expect(await sshProcessesWith(String(outputs.tunnelTag))).toHaveLength(1);
    const refreshed = await stack.ok("refresh");
    expect(refreshed).toMatchObject({ delete: 1 });
    // The dead tunnel's ssh and files on the tunnel host went with it.
    expect(await sshProcessesWith(String(outputs.tunnelTag))).toEqual([]);
    expect(stateFilesWith(String(outputs.tunnelTag))).toEqual([]);
    const again = await stack.ok("up");
    expect(again.pid).not.toBe(outputs.pid);
    expect(again.keeperPid).not.toBe(outputs.keeperPid);
    expect(await fetchFrom(lab.nsTc, again.url as string)).toBe("internal service reached");
    outputs = again;
  });

  test("destroy kills exactly that process and removes exactly that rule, saying so on each row", async () => {
    const { log } = await stack.okWithLog("destroy");
    expect(log).toMatch(
      new RegExp(
        `SharedTunnel internal-service-forward deleting \\(\\d+s\\) stopping the keeper \\(pid ${String(outputs.keeperPid)}\\) and its ssh, and waiting for \\S+ to close`,
      ),
    );
    expect(log).toMatch(/FirewallAllow internal-service-allow deleting \(\d+s\) removing allow \S+ to port \d+\/tcp \(ufw\)/);
    await expectNothingLeft(stack.name, outputs.url as string);
  });
});

describe("bad input and failed preflight leave nothing behind", () => {
  const stack = new TestStack("it-bad");
  afterAll(async () => {
    await stack.run("destroy");
  });

  test("a 0.0.0.0 bind is refused before anything starts, naming the property", async () => {
    const r = await stack.run("up", { ...stackConfig(8082, true), bindAddress: "0.0.0.0" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/bindAddress: 0\.0\.0\.0 binds every interface; bind one trusted interface, or set allowAllInterfaces: true/);
    await expectNothingLeftOnTunnelHost(lab, ".it-bad.");
  });

  test("a port held by another program fails preflight naming that program and pid", async () => {
    // It outlives any up (killed in finally): on a busy machine an up took longer than its old 30 s.
    const script = "setTimeout(() => process.exit(0), 240000); require('net').createServer().listen(8084, process.argv[1])";
    const squatter = inNs(lab.nsTh, [process.execPath, "-e", script, lab.thTrusted], 250_000);
    try {
      const holder = await waitForListener(8084);
      const r = await stack.run("up", stackConfig(8084, true));
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`port 8084 is held by node pid ${holder}`));
      expect(await sshProcessesWith(".it-bad.")).toEqual([]);
    } finally {
      await inNs(lab.nsTh, ["pkill", "-f", "-x", `${process.execPath} -e .*listen\\(8084.*`]);
      await squatter;
    }
  });

  test("a bind address the tunnel host does not have fails preflight with the addresses it does have", async () => {
    const r = await stack.run("up", { ...stackConfig(8085, true), bindAddress: "198.51.100.99" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/198\.51\.100\.99 is not an address of the tunnel host/);
    expect(r.stderr).toMatch(/hint: bind one of the tunnel host's own addresses \(.*198\.51\.100\.40/);
    expect(await sshProcessesWith(".it-bad.")).toEqual([]);
  });

  test("a closed target port fails preflight with the cause and a hint, and no rule or process remains", async () => {
    const r = await stack.run("up", { ...stackConfig(8083, true), targetPort: "9" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/the target 127\.0\.0\.1:9 does not answer from the gateway/);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stderr).toMatch(/command: 'ssh' /);
    expect(await sshProcessesWith(".it-bad.")).toEqual([]);
    // The firewall rule went in first; the failed tunnel does not remove it, destroy does.
    await stack.ok("destroy");
    await expectNoFirewallTrace(lab, ".it-bad.");
  });
});
