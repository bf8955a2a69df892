import { CommandFailedError } from "../../../provider/errors";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { applyAndList, applyNftScript, parseListings } from "../../../provider/firewall/nft-batch";
import { GATE_TABLE, UFW_SHIELD_TABLE } from "../../../provider/firewall/nft-rules";
import { hostScript } from "../../../provider/host/host-script";
import { LocalRunner } from "../../../provider/host/local-runner";
import { exactStdout, type RunResult, type Runner } from "../../../provider/host/runner";
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

describe("a change's table listed right after it, in the same command (nft-apply.sh)", () => {
  const TABLE = UFW_SHIELD_TABLE;
  // Equal to the gate table, not the same object: tables are told apart by family and name.
  const OTHER = { ...GATE_TABLE };
  const frame = (...listings: [string, number][]) => Buffer.from(`\0${listings.map(([l, s]) => `${l}\0${s}\0`).join("")}`);

  test("the output's frames give each table its listing, byte for byte; a failed listing or a cut frame gives none", () => {
    expect(parseListings(frame(['{"a":1}\n', 0], ["", 1]), 2)).toEqual([{ text: '{"a":1}\n', bytes: Buffer.from('{"a":1}\n') }, undefined]);
    expect(parseListings(Buffer.concat([Buffer.from("nft says\n"), frame(["x", 0])]), 1)).toEqual([{ text: "x", bytes: Buffer.from("x") }]);
    expect(parseListings(frame(["x", 0]).subarray(0, 4), 1)).toEqual([undefined]);
    expect(parseListings(frame(["x", 0], ["y", 0]), 1)).toEqual([undefined]);
  });

  test("changes batched together share one command; each gets its own table's listing", async () => {
    const runs: string[][] = [];
    const runner: Runner = {
      where: "listing",
      close: async () => {},
      run: async (argv: readonly string[]): Promise<RunResult> => {
        if (argv[0] === "sh" && argv[2].startsWith("umask 077")) return { ...ok(), stdout: STATE_DIR_OK };
        runs.push([...argv]);
        await new Promise((r) => setTimeout(r, 20));
        // The tables come as FAMILY NAME pairs after the script, in the order first asked.
        const tables = argv.slice(8);
        const out = frame(...Array.from({ length: tables.length / 2 }, (_, i): [string, number] => [`listing of ${tables[2 * i + 1]}\n`, 0]));
        return { ...ok(), stdout: out.toString("utf8"), stdoutBytes: out };
      },
    };
    const first = applyAndList(runner, change(1), { what: "add", listAfter: TABLE });
    await new Promise((r) => setTimeout(r, 5));
    const [a, b, c] = await Promise.all([
      first,
      applyAndList(runner, change(2), { what: "add", listAfter: TABLE }),
      applyAndList(runner, change(3), { what: "add", listAfter: OTHER }),
    ]);
    expect(runs).toHaveLength(2);
    expect(runs[1].slice(0, 5)).toEqual(["flock", "-w", "120", "/run/pulumi-shared-tunnel/firewall.lock", "sh"]);
    expect(runs[1].slice(8)).toEqual(["inet", TABLE.name, "inet", OTHER.name]);
    expect([a?.text, b?.text, c?.text]).toEqual([`listing of ${TABLE.name}\n`, `listing of ${TABLE.name}\n`, `listing of ${OTHER.name}\n`]);
  });

  test("on this machine's sh with a stand-in nft: the change reads stdin, then each table is listed and framed", async () => {
    const bin = mkdtempSync(path.join(tmpdir(), "pst-unit-nft-"));
    try {
      // The stand-in: `-f -` keeps what came on stdin; `list table F N` prints it, and fails for a table named "gone".
      writeFileSync(
        path.join(bin, "nft"),
        `#!/bin/sh\nif [ "$1" = -f ]; then cat >"${bin}/applied"; exit 0; fi\n[ "$6" = gone ] && { echo "No such file or directory" >&2; exit 1; }\nprintf '{"table":"%s %s"}\\n' "$5" "$6"\n`,
        { mode: 0o755 },
      );
      const script = hostScript(path.resolve(__dirname, "../../../provider/firewall/nft-apply.sh"));
      const r = await new LocalRunner().run(["env", `PATH=${bin}:/usr/bin:/bin`, "sh", "-c", script, "sh", "inet", "ours", "inet", "gone"], {
        input: "add table inet ours\n",
      });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(path.join(bin, "applied"), "utf8")).toBe("add table inet ours\n");
      expect(parseListings(exactStdout(r), 2)).toEqual([
        { text: '{"table":"inet ours"}\n', bytes: Buffer.from('{"table":"inet ours"}\n') },
        undefined,
      ]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
