import { fetchFrom, inNs, probe, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { expectNoFirewallTrace, firewallViewsWith, processesWith, stateFilesWith } from "../support/leftovers";

/**
 * The canary for every "nothing is left" check: a rule that is live but not saved by ufw is
 * seen, and a probe that could not run fails the test instead of reading as "nothing there".
 */
jest.setTimeout(60_000);

const lab: Lab = readLab();
const TAG = `pst.leftovers-canary.${process.pid}.rule.1`;

test("a rule live in iptables and ip6tables only (ufw never saved it) shows in the live views and fails the check", async () => {
  const rule = ["INPUT", "-p", "tcp", "--dport", "9", "-m", "comment", "--comment", TAG, "-j", "ACCEPT"];
  const tools = ["iptables", "ip6tables"];
  try {
    for (const tool of tools) await probe(lab.nsTh, [tool, "-w", "-A", ...rule]);
    // nft does not print the comments of iptables-nft's rules: each view is read, none stands for another.
    expect((await firewallViewsWith(lab, TAG)).sort()).toEqual(["ip6tables", "iptables"]);
    await expect(expectNoFirewallTrace(lab, TAG)).rejects.toThrow();
  } finally {
    for (const tool of tools) await inNs(lab.nsTh, [tool, "-w", "-D", ...rule]);
  }
  await expectNoFirewallTrace(lab, TAG);
});

test("a probe that fails throws; pgrep's 'no match' is an answer", async () => {
  await expect(probe(lab.nsTh, ["ufw", "show", "no-such-report"])).rejects.toThrow(/probe failed in .*ufw show no-such-report exited/);
  await expect(probe(undefined, ["pgrep", "--no-such-option"], [0, 1])).rejects.toThrow(/exited 2/);
  await expect(fetchFrom("pst-no-such-namespace", `http://${lab.thTrusted}:9/`)).rejects.toThrow(/failed for another reason than not getting in/);
  expect(await sshProcessesWith(TAG)).toEqual([]);
  expect(await processesWith(TAG)).toEqual([]);
  expect(stateFilesWith(TAG)).toEqual([]);
});
