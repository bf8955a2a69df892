import * as path from "node:path";
import { inNs, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { labGatewayConfig, labTunnelHostConfig } from "../support/lab-config";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * 20 rules and 20 forwards on one tunnel host in one `pulumi up` at Pulumi's default parallelism,
 * then two such stacks at once: every rule live and saved, every listener owned by its own ssh,
 * and destroy leaves nothing. (ufw loses rules when its commands run concurrently; sshd drops
 * connections past MaxStartups: both would show here.)
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const DIR = path.join(ROOT, "test/programs/many-tunnels");
const COUNT = 20;

function config(basePort: number): Record<string, string> {
  return {
    count: String(COUNT),
    basePort: String(basePort),
    ...labTunnelHostConfig(lab),
    ...labGatewayConfig(lab),
    bindAddress: lab.thTrusted,
  };
}

interface Outputs {
  ruleTags: string[];
  tunnels: { pid: number; listenAddress: string; tag: string }[];
}

/** Checks every rule is saved (ufw's user.rules) and live (iptables), every listener owned by its pid. */
async function expectAllApplied(out: Outputs, basePort: number): Promise<void> {
  const saved = await tunnelHostUfwRules(lab);
  for (let i = 0; i < COUNT; i++) {
    expect(saved).toContain(out.ruleTags[i]);
    const live = await inNs(lab.nsTh, [
      "iptables",
      "-w",
      "-C",
      "ufw-user-input",
      "-p",
      "tcp",
      "-s",
      `198.51.100.${100 + i}`,
      "-d",
      lab.thTrusted,
      "--dport",
      String(basePort + i),
      "-j",
      "ACCEPT",
    ]);
    expect(live.exitCode).toBe(0);
  }
  const ss = (await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p"])).stdout;
  for (const t of out.tunnels) {
    const line = ss.split("\n").find((l) => l.includes(` ${t.listenAddress} `));
    expect(line).toContain(`pid=${t.pid},`);
  }
  expect(new Set(out.tunnels.map((t) => t.pid)).size).toBe(COUNT);
}

async function expectNothingLeft(stackName: string): Promise<void> {
  await expectNothingLeftOnTunnelHost(lab, `pst.many-tunnels.${stackName}.`);
}

test(`${COUNT} rules and ${COUNT} forwards in one up, then destroy`, async () => {
  const stack = new TestStack("rel-many-one", undefined, DIR);
  try {
    const out = (await stack.ok("up", config(8200))) as unknown as Outputs;
    await expectAllApplied(out, 8200);
    await stack.ok("destroy");
    await expectNothingLeft("rel-many-one");
  } finally {
    await stack.run("destroy");
  }
});

test(`two stacks of ${COUNT}+${COUNT} on the same host at the same time`, async () => {
  const a = new TestStack("rel-many-a", undefined, DIR);
  const b = new TestStack("rel-many-b", undefined, DIR);
  try {
    const [outA, outB] = await Promise.all([upWithOwnEnv(a, 8300), upWithOwnEnv(b, 8400)]);
    await expectAllApplied(outA, 8300);
    await expectAllApplied(outB, 8400);
    await Promise.all([destroyWithOwnEnv(a), destroyWithOwnEnv(b)]);
    await expectNothingLeft("rel-many-a");
    await expectNothingLeft("rel-many-b");
  } finally {
    await destroyWithOwnEnv(a);
    await destroyWithOwnEnv(b);
  }
});

async function upWithOwnEnv(stack: TestStack, basePort: number): Promise<Outputs> {
  const r = await stack.run("up", config(basePort));
  if (r.exitCode !== 0) throw new Error(`up ${stack.name} failed:\n${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string);
}

async function destroyWithOwnEnv(stack: TestStack): Promise<void> {
  await stack.run("destroy", {});
}
