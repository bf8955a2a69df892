import { openBackend } from "../../../provider/firewall/firewall-controller";
import { FirewallError } from "../../../provider/errors";
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

test.each([
  ["nothing installed", new FakeHost([])],
  ["ufw installed but inactive", new FakeHost(["ufw"])],
])("auto on a host with %s names every command it ran, exactly as run", async (_name, host) => {
  const error = await openBackend(host, "auto").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FirewallError);
  expect((error as FirewallError).message).toMatch(/found none of ufw, nft or iptables/);
  const shown = (error as FirewallError).command?.split("; ");
  const quoted = (call: string) => {
    const tool = /^sh -c command -v "\$1" >\/dev\/null sh (\S+)$/.exec(call)?.[1];
    return tool ? `'sh' '-c' 'command -v "$1" >/dev/null' 'sh' '${tool}'` : call === "ufw status verbose" ? "'ufw' 'status' 'verbose'" : call;
  };
  expect(shown).toEqual(host.calls.map(quoted));
  expect(shown).toHaveLength(host.calls.length);
});
