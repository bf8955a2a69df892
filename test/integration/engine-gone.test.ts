import { waitFor } from "../../provider/state/wait-for";
import * as path from "node:path";
import { inNs, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { demoConfig } from "../support/demo-config";
import { killUpMidCreate } from "../support/killed-up";
import { providerProcessesOf, type RunProcess } from "../support/run-processes";
import { ROOT, TestStack } from "../support/stack";

/**
 * A `pulumi up` SIGKILLed mid-create (a cancelled CI job) takes its engine with it; the dynamic
 * provider it started must notice and leave, closing its ssh connections, instead of running on
 * under init for as long as the machine is up.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const STACK = "it-engine-gone";
const PREFIX = `pst.shared-tunnel-demo.${STACK}.internal-service-forward.`;
const config = demoConfig(lab, { bindPort: "8465" });

test("within 10 s of a SIGKILLed up, no provider process of that run remains", async () => {
  const stack = new TestStack(STACK);
  let atKill: RunProcess[] = [];
  try {
    let killed = false;
    // The kill must land while the run is still going; retry the rare run that finished first.
    for (let attempt = 0; attempt < 3 && !killed; attempt++) {
      killed = await killUpMidCreate(stack, config, PREFIX, async () => void (atKill = providerProcessesOf(stack)));
      if (!killed) await stack.run("destroy");
    }
    expect(killed).toBe(true);
    // The shim (a shell) and its node were running when pulumi died.
    expect(atKill.map((p) => p.args).join("\n")).toMatch(/cmd\/dynamic-provider/);
    await waitFor(async () => (providerProcessesOf(stack).length === 0 ? true : undefined), 10_000);
    expect(providerProcessesOf(stack).map((p) => `${p.pid} ${p.args}`)).toEqual([]);
  } finally {
    // On code that does not leave by itself, leave nothing behind either.
    for (const p of providerProcessesOf(stack)) process.kill(p.pid, "SIGKILL");
    await stack.run("cancel");
    await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
    await stack.run("destroy");
    // The killed create's keeper, ssh and files are in no state now: reap them, as docs/troubleshooting.md
    // tells a user whose pipeline was killed, and check that really nothing is left.
    const reap = await inNs(lab.nsTh, [process.execPath, path.join(ROOT, "dist/provider/cli/reap.js"), "reap", "--stack", STACK], 120_000);
    expect({ exitCode: reap.exitCode, stderr: reap.stderr }).toEqual({ exitCode: 0, stderr: "" });
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  }
});
