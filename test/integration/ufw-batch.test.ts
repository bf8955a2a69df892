import { ufwChange } from "../../provider/firewall/ufw-batch";
import type { Runner } from "../../provider/host/runner";
import { inNs, probe, readLab, type Lab } from "../support/lab";

/**
 * ufw's deletes, batched: ufw reloads all its rules after every delete (O(N) each), the batch
 * once at the end. What a user observes must be what the same deletes one by one leave: our rules
 * gone from the saved files and the running chains, and a hand-made rule that overlaps one of
 * them (ufw's "proto any": a tcp and a udp rule) running in its saved order again.
 */
jest.setTimeout(180_000);

const lab: Lab = readLab();
/** Commands in the tunnel host's namespace, as the provider's own runner would run them there. */
const th: Runner = {
  where: `netns ${lab.nsTh}`,
  run: (argv, options) => inNs(lab.nsTh, [...argv], options?.timeoutMs ?? 60_000),
  close: async () => {},
};
const PORTS = Array.from({ length: 20 }, (_, i) => 9660 + i);
const OVERLAP = PORTS[3];
const rule = (port: number) => ["proto", "tcp", "from", lab.trustedCidr, "to", lab.thTrusted, "port", String(port)];
const running = async (port: number) =>
  (await probe(lab.nsTh, ["iptables", "-S", "ufw-user-input"])).split("\n").filter((l) => l.includes(`--dport ${port} `));

afterAll(async () => {
  await inNs(lab.nsTh, ["ufw", "delete", "allow", "from", lab.trustedCidr, "to", lab.thTrusted, "port", String(OVERLAP)]);
  for (const port of PORTS) await inNs(lab.nsTh, ["ufw", "delete", "allow", ...rule(port)]);
});

test("20 of our rules deleted in batches: gone from the saved files and the running chains; an overlapping hand-made rule runs in its saved order", async () => {
  expect((await inNs(lab.nsTh, ["ufw", "allow", "from", lab.trustedCidr, "to", lab.thTrusted, "port", String(OVERLAP)])).exitCode).toBe(0);
  const handMade = await running(OVERLAP);
  expect(handMade.map((l) => / -p (tcp|udp) /.exec(l)?.[1])).toEqual(["tcp", "udp"]);
  await Promise.all(PORTS.map((port, i) => ufwChange(th, ["ufw", "allow", ...rule(port), "comment", `pst.unit.batch.r${i}.1796000000`], "add")));
  expect(await running(OVERLAP)).toHaveLength(3);
  await Promise.all(PORTS.map((port) => ufwChange(th, ["ufw", "delete", "allow", ...rule(port)], "delete")));
  const saved = await probe(lab.nsTh, ["cat", "/etc/ufw/user.rules"]);
  expect(saved).not.toContain("pst.unit.batch.");
  for (const port of PORTS.filter((p) => p !== OVERLAP)) expect(await running(port)).toEqual([]);
  // ufw's -D took the hand-made rule's tcp half (the first match); the reload puts the chain back as saved.
  expect(await running(OVERLAP)).toEqual(handMade);
});
