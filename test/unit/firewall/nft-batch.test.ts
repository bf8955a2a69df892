import { CommandFailedError } from "../../../provider/errors";
import { applyNftScript } from "../../../provider/firewall/nft-batch";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { STATE_DIR_OK } from "../state-dir-fixture";

const ok = (exitCode = 0, stderr = ""): RunResult => ({ exitCode, stdout: "", stderr, timedOut: false });

/** A host whose `nft -f -` refuses any script holding a line from `bad` (as the kernel refuses the whole transaction). */
function nftHost(where: string, bad: string[] = [], opts: { throwOn?: string } = {}) {
  const applied: string[] = [];
  const guarded: string[] = [];
  const runner: Runner = {
    where,
    close: async () => {},
    run: async (argv: readonly string[], options): Promise<RunResult> => {
      if (argv[0] === "sh" && argv[2].startsWith("umask 077")) return { ...ok(), stdout: STATE_DIR_OK };
      // A guarded change: flock, then the compare-and-swap script with the listing's digest.
      if (argv[4] === "sh") {
        guarded.push(`${argv.slice(8).join(" ")}: ${options?.input ?? ""}`);
        return ok();
      }
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
  return { runner, applied, guarded };
}

const change = (n: number) => `delete rule inet t c handle ${n}\n`;

test("changes that arrive while one is applied go together, as one nft transaction, in order", async () => {
  const host = nftHost("together");
  const first = applyNftScript(host.runner, change(1), { what: "remove the nftables rule" });
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, applyNftScript(host.runner, change(2), { what: "remove" }), applyNftScript(host.runner, change(3), { what: "remove" })]);
  expect(host.applied).toEqual([change(1), change(2) + change(3)]);
});

test("a batch the kernel refuses is applied change by change: the bad one fails alone, naming nft -f -", async () => {
  const host = nftHost("refused", ["handle 2"]);
  const first = applyNftScript(host.runner, change(1), { what: "remove" });
  await new Promise((r) => setTimeout(r, 5));
  const results = await Promise.allSettled([
    first,
    ...[2, 3].map((n) => applyNftScript(host.runner, change(n), { what: "remove the nftables rule" })),
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  const err = (results[1] as PromiseRejectedResult).reason as CommandFailedError;
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(err.command).toBe("'nft' '-f' '-'");
  expect(err.message).toContain("handle 2");
  expect(host.applied).toEqual([change(1), change(3)]);
});

test("a change whose command never ran fails with that error, and the rest of its batch is not left waiting", async () => {
  const host = nftHost("lost", [], { throwOn: "handle 5" });
  const first = applyNftScript(host.runner, change(4), { what: "remove" });
  await new Promise((r) => setTimeout(r, 5));
  const results = await Promise.allSettled([
    first,
    applyNftScript(host.runner, change(5), { what: "remove" }),
    applyNftScript(host.runner, change(6), { what: "remove" }),
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
  expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe("connection lost");
});

test("hosts batch apart", async () => {
  const a = nftHost("host-a");
  const b = nftHost("host-b");
  await Promise.all([applyNftScript(a.runner, change(1), { what: "remove" }), applyNftScript(b.runner, change(2), { what: "remove" })]);
  expect([a.applied, b.applied]).toEqual([[change(1)], [change(2)]]);
});

test("a change guarded by its listing never joins a batch: it runs alone, under its compare-and-swap", async () => {
  const host = nftHost("guarded");
  const unchanged = { read: ["nft", "-a", "-j", "list", "table", "inet", "t"], digest: "d".repeat(64) };
  const first = applyNftScript(host.runner, change(1), { what: "remove" });
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([
    first,
    applyNftScript(host.runner, "delete table inet t\n", { what: "remove the empty table", unchanged }),
    applyNftScript(host.runner, change(2), { what: "remove" }),
  ]);
  expect(host.applied).toEqual([change(1), change(2)]);
  expect(host.guarded).toEqual([`${"d".repeat(64)} 7 nft -a -j list table inet t 3 nft -f -: delete table inet t\n`]);
});
