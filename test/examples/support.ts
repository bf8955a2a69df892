import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { fetchFrom, type Lab } from "../support/lab";
import { labForwardConfig, labTunnelHostAsUser } from "../support/lab-config";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/** A fresh stack name (stacks of the examples' tests start with "ex-"; tags stay short). */
export function exStackName(kind: string): string {
  return `ex-${kind}-${randomBytes(3).toString("hex")}`;
}

/** The project directory of examples/<name>. */
function exampleDir(name: string): string {
  return path.join(ROOT, "examples", name);
}

/** What every tag the stack puts on a host starts with ("pst.<project>.<stack>."). */
export function stackTagPrefix(project: string, stack: string): string {
  return `pst.${project}.${stack}.`;
}

/** A stack of examples/<name>, with its own file backend; `netns` runs pulumi on that lab host. */
export function exampleStack(name: string, kind: string, netns?: string): TestStack {
  return new TestStack(exStackName(kind), netns, exampleDir(name));
}

/** The trusted client gets the internal service through `url`; the untrusted one gets nothing. */
export async function expectGated(lab: Lab, url: string): Promise<void> {
  expect(await fetchFrom(lab.nsTc, url)).toBe("internal service reached");
  expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
}

/**
 * After destroy: no process, no rule (saved or live, in any firewall view) and no file on the
 * tunnel host carries the stack's tags, and the trusted client no longer gets through.
 */
export async function expectNothingLeft(lab: Lab, tagPrefix: string, urls: string[]): Promise<void> {
  await expectNothingLeftOnTunnelHost(lab, tagPrefix);
  for (const url of urls) expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
}

/** Lab config for the examples' shared config keys (examples/shared/config.ts). */
export function exampleConfig(lab: Lab, bindPort: number, remote: boolean, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(remote ? labTunnelHostAsUser(lab) : {}),
    ...labForwardConfig(lab),
    bindPort: String(bindPort),
    ...extra,
  };
}
