import { readdirSync, readFileSync } from "node:fs";
import type { TestStack } from "./stack";

export interface RunProcess {
  pid: number;
  args: string;
}

/**
 * Live processes whose environment holds `entry` exactly ("NAME=value"), read from /proc. Zombies
 * have no environment left and are not listed (init reaps them late on these machines).
 */
function processesWithEnv(entry: string): RunProcess[] {
  const found: RunProcess[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(entry)) continue;
      found.push({ pid: Number(name), args: readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").join(" ").trim() });
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return found;
}

/** The dynamic-provider processes (Pulumi's shim and its node) that `stack`'s pulumi runs started. */
export function providerProcessesOf(stack: TestStack): RunProcess[] {
  return processesWithEnv(`PULUMI_HOME=${stack.env().PULUMI_HOME}`).filter((p) => /pulumi-resource-pulumi-nodejs|cmd\/dynamic-provider/.test(p.args));
}
