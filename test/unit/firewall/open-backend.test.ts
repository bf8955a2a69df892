import { openBackend } from "../../../provider/firewall/firewall-controller";
import { FirewallError } from "../../../provider/errors";
import { quoteArgv } from "../../../provider/host/quote";
import type { RunOptions, RunResult, Runner } from "../../../provider/host/runner";

let hosts = 0;

/** Answers like a host with the given tools; each has its own name, as reads are shared per host. */
class FakeHost implements Runner {
  readonly where = `fake-${++hosts}`;
  readonly calls: string[] = [];
  constructor(
    private readonly installed: string[],
    private readonly ufwStatus = "Status: inactive\n",
  ) {}
  async run(argv: readonly string[], _options?: RunOptions): Promise<RunResult> {
    this.calls.push(argv.join(" "));
    const ok = (stdout = ""): RunResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });
    if (argv[0] === "sh" && argv[2] === 'command -v "$1" >/dev/null') return this.installed.includes(argv[4]) ? ok() : { ...ok(), exitCode: 1 };
    if (argv.join(" ") === "ufw status verbose") return ok(this.ufwStatus);
    throw new Error(`unexpected command ${argv.join(" ")}`);
  }
  async close(): Promise<void> {}
}

test.each([
  ["ufw active", new FakeHost(["ufw", "nft", "iptables"], "Status: active\n\nTo Action From\n"), "ufw"],
  ["ufw inactive, nft installed", new FakeHost(["ufw", "nft", "iptables"]), "nftables"],
  ["no ufw, nft installed", new FakeHost(["nft"]), "nftables"],
  ["no ufw, no nft", new FakeHost(["iptables"]), "iptables"],
])("auto on a host with %s picks %s", async (_name, host, expected) => {
  expect((await openBackend(host, "auto")).name).toBe(expected);
  expect((await openBackend(host, undefined)).name).toBe(expected);
});

test("auto that picks ufw hands its status read to the backend: one ufw status for detection and readiness", async () => {
  const host = new FakeHost(["ufw"], "Status: active\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n");
  await (await openBackend(host, "auto")).ensureReady();
  expect(host.calls.filter((c) => c.startsWith("ufw status"))).toEqual(["ufw status verbose"]);
});

test("auto that picks ufw still refuses a default-allow policy it read during detection", async () => {
  const host = new FakeHost(["ufw"], "Status: active\nDefault: allow (incoming), allow (outgoing), disabled (routed)\n");
  await expect((await openBackend(host, "auto")).ensureReady()).rejects.toThrow(/default incoming policy is allow/);
});

test.each(["ufw", "nftables", "iptables"] as const)("a stored %s is opened as is, with no detection on the host", async (name) => {
  const host = new FakeHost([]);
  expect((await openBackend(host, name)).name).toBe(name);
  expect(host.calls).toEqual([]);
});

test("an unknown stored backend is an error, not a fresh detection", async () => {
  await expect(openBackend(new FakeHost([]), "pf" as "ufw")).rejects.toThrow(/unknown firewall backend "pf"/);
});

test("a host with none of the tools is a FirewallError showing the three look-ups exactly as they ran", async () => {
  const host = new FakeHost([]);
  const err = await openBackend(host, "auto").catch((e: unknown) => e);
  const lookups = ["ufw", "nft", "iptables"].map((tool) => ["sh", "-c", 'command -v "$1" >/dev/null', "sh", tool]);
  expect(host.calls).toEqual(lookups.map((argv) => argv.join(" ")));
  expect(err).toBeInstanceOf(FirewallError);
  expect((err as FirewallError).command).toBe(lookups.map((argv) => quoteArgv(argv)).join("; "));
});
