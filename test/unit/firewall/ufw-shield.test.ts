import { CommandFailedError, FirewallError } from "../../../provider/errors";
import { UfwShield } from "../../../provider/firewall/ufw-shield";
import type { RunResult, Runner } from "../../../provider/host/runner";

/** A host whose every command fails as `nft` does there (`exitCode`, `stderr`); records what ran. */
function hostWhereNft(exitCode: number, stderr: string): Runner & { ran: string[][] } {
  const ran: string[][] = [];
  return {
    where: "fake",
    ran,
    async run(argv): Promise<RunResult> {
      ran.push([...argv]);
      return { exitCode, stdout: "", stderr, timedOut: false };
    },
    async close() {},
  };
}

const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
const TAG = "pst.p.s.allow.0123456789ab.1700000000";

describe.each([
  ["sh", 127, "sh: 1: nft: not found"],
  ["sudo", 1, "sudo: nft: command not found"],
])("a ufw rule's shield on a host without nft (%s's message)", (_who, exitCode, stderr) => {
  test("reads and removals find no shield: refresh shows it gone, destroy still works", async () => {
    const host = hostWhereNft(exitCode, stderr);
    const shield = new UfwShield(host);
    await expect(shield.list()).resolves.toEqual([]);
    await expect(shield.listing()).resolves.toEqual({ accepts: [], strayDrops: [] });
    await expect(shield.remove(rule, TAG)).resolves.toBeUndefined();
  });

  test("adding one fails before anything changes, naming the package", async () => {
    const host = hostWhereNft(exitCode, stderr);
    const err = await new UfwShield(host).add(rule, TAG).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallError);
    expect(String((err as Error).message)).toMatch(/no nft, which every ufw rule's shield needs/);
    expect((err as FirewallError).hint).toMatch(/apt install nftables.*Nothing was changed/);
    // Only the listing ran: no change was attempted.
    expect(host.ran.every((argv) => argv.slice(0, 4).join(" ") === "nft -a -j list")).toBe(true);
  });
});

test("any other nft failure is not taken for a missing nft", async () => {
  const shield = new UfwShield(hostWhereNft(1, "Error: Could not process rule: Operation not permitted"));
  await expect(shield.list()).rejects.toBeInstanceOf(CommandFailedError);
  await expect(shield.remove(rule, TAG)).rejects.toBeInstanceOf(CommandFailedError);
});
