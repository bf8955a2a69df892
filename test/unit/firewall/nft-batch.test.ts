import { CommandFailedError } from "../../../provider/errors";
import { nftChange } from "../../../provider/firewall/nft-batch";
import type { RunResult, Runner } from "../../../provider/host/runner";

const ok = (exitCode = 0, stderr = ""): RunResult => ({ exitCode, stdout: "", stderr, timedOut: false });

/** A host whose `nft -f -` refuses any script holding a line from `bad` (as the kernel refuses the whole transaction). */
function nftHost(where: string, bad: string[] = [], opts: { throwOn?: string } = {}) {
  const applied: string[] = [];
  const runner: Runner = {
    where,
    close: async () => {},
    run: async (argv: readonly string[], options): Promise<RunResult> => {
      expect(argv).toEqual(["flock", "-w", "120", "/run/pulumi-shared-tunnel/firewall.lock", "nft", "-f", "-"]);
      const script = options?.input ?? "";
      await new Promise((r) => setTimeout(r, 20));
      if (opts.throwOn && script.includes(opts.throwOn)) throw new Error("connection lost");
      const refused = bad.find((b) => script.includes(b));
      if (refused) return ok(1, `Error: Could not process rule: No such file or directory\n${refused}`);
      applied.push(script);
      return ok();
    },
  };
  return { runner, applied };
}

const change = (n: number) => `delete rule inet t c handle ${n}\n`;

test("changes that arrive while one is applied go together, as one nft transaction, in order", async () => {
  const host = nftHost("together");
  const first = nftChange(host.runner, change(1), "remove the nftables rule");
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, nftChange(host.runner, change(2), "remove"), nftChange(host.runner, change(3), "remove")]);
  expect(host.applied).toEqual([change(1), change(2) + change(3)]);
});

test("a batch the kernel refuses is applied change by change: the bad one fails alone, naming nft -f -", async () => {
  const host = nftHost("refused", ["handle 2"]);
  const first = nftChange(host.runner, change(1), "remove");
  await new Promise((r) => setTimeout(r, 5));
  const results = await Promise.allSettled([first, ...[2, 3].map((n) => nftChange(host.runner, change(n), "remove the nftables rule"))]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  const err = (results[1] as PromiseRejectedResult).reason as CommandFailedError;
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(err.command).toBe("'nft' '-f' '-'");
  expect(err.message).toContain("handle 2");
  expect(host.applied).toEqual([change(1), change(3)]);
});

test("a change whose command never ran fails with that error, and the rest of its batch is not left waiting", async () => {
  const host = nftHost("lost", [], { throwOn: "handle 5" });
  const first = nftChange(host.runner, change(4), "remove");
  await new Promise((r) => setTimeout(r, 5));
  const results = await Promise.allSettled([first, nftChange(host.runner, change(5), "remove"), nftChange(host.runner, change(6), "remove")]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
  expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe("connection lost");
});

test("hosts batch apart", async () => {
  const a = nftHost("host-a");
  const b = nftHost("host-b");
  await Promise.all([nftChange(a.runner, change(1), "remove"), nftChange(b.runner, change(2), "remove")]);
  expect([a.applied, b.applied]).toEqual([[change(1)], [change(2)]]);
});
