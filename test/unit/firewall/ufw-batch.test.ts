import { CommandFailedError } from "../../../provider/errors";
import { ufwChange } from "../../../provider/firewall/ufw-batch";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { STATE_DIR_OK } from "../state-dir-fixture";

const RESULT = "PST-UFW-RESULT ";
const ok = (stdout: string, exitCode = 0): RunResult => ({ exitCode, stdout, stderr: "", timedOut: false });

/**
 * A host whose ufw batch answers each change from `verdict` (true: applied; a string: ufw's
 * refusal), after `delayMs`, or exits `exitCode` without running any. Records every batch.
 */
function scriptedHost(
  where: string,
  verdict: (args: string[]) => true | string,
  opts: { exitCode?: number; delayMs?: number; after?: (checks: (string[] | undefined)[]) => string } = {},
) {
  const batches: string[][][] = [];
  const checks: (string[] | undefined)[][] = [];
  const singles: string[][] = [];
  const runner: Runner = {
    where,
    close: async () => {},
    run: async (argv: readonly string[]): Promise<RunResult> => {
      if (argv[0] === "sh" && argv[2].startsWith("umask 077")) return ok(STATE_DIR_OK);
      if (argv[0] === "flock" && argv[4] === "ufw") {
        singles.push(argv.slice(4));
        const v = verdict(argv.slice(5));
        return v === true ? ok("Rule added\n") : { ...ok("", 1), stderr: `ERROR: ${v}` };
      }
      if (argv[0] === "flock" && argv[4] === "sh") {
        expect(argv.some((a) => a.includes("\n"))).toBe(false);
        const words = argv.slice(9).map((w) => JSON.parse(w) as string[] | { args: string[]; check?: string[] });
        const changes = words.map((w) => (Array.isArray(w) ? w : w.args));
        batches.push(changes);
        checks.push(words.map((w) => (Array.isArray(w) ? undefined : w.check)));
        await new Promise((r) => setTimeout(r, opts.delayMs ?? 20));
        if (opts.exitCode !== undefined) return { ...ok("", opts.exitCode), stderr: "cannot load ufw's code" };
        // ufw prints lines of its own too; only the marked ones are results.
        const lines = changes.map((c) => {
          const v = verdict(c);
          return `WARN: noise\n${RESULT}${JSON.stringify(v === true ? { ok: true, message: "Rule added" } : { ok: false, message: v })}`;
        });
        return ok(lines.join("\n") + "\n" + (opts.after?.(checks[checks.length - 1]) ?? ""));
      }
      throw new Error(`unexpected command ${argv.join(" ")}`);
    },
  };
  return { runner, batches, singles, checks };
}

const allow = (port: number) => ["ufw", "allow", "proto", "tcp", "from", "198.51.100.0/24", "to", "any", "port", String(port)];

test("changes that arrive while a batch runs go together into the next one, in order", async () => {
  const host = scriptedHost("batching", () => true);
  const first = ufwChange(host.runner, allow(1), "add the firewall rule");
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, ufwChange(host.runner, allow(2), "add"), ufwChange(host.runner, allow(3), "add")]);
  expect(host.batches).toEqual([[allow(1).slice(1)], [allow(2).slice(1), allow(3).slice(1)]]);
});

test("a change ufw refuses fails alone, naming the ufw command; the rest of its batch is applied", async () => {
  const host = scriptedHost("refusal", (args) => (args.includes("2") ? "Bad port" : true));
  const results = await Promise.allSettled([1, 2, 3].map((p) => ufwChange(host.runner, allow(p), "add the firewall rule")));
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  const err = (results[1] as PromiseRejectedResult).reason as CommandFailedError;
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(err.message).toContain("Bad port");
  expect(err.command).toBe("'ufw' 'allow' 'proto' 'tcp' 'from' '198.51.100.0/24' 'to' 'any' 'port' '2'");
});

test("where ufw's code cannot be loaded, each change runs as its own ufw command", async () => {
  const host = scriptedHost("no-python", () => true, { exitCode: 3 });
  await Promise.all([1, 2].map((p) => ufwChange(host.runner, allow(p), "add")));
  expect(host.singles).toEqual([allow(1), allow(2)]);
});

test("a batch that stops before answering fails every change it held, with ufw's stderr", async () => {
  const host = scriptedHost("crash", () => true, { exitCode: 1 });
  const results = await Promise.allSettled([1, 2].map((p) => ufwChange(host.runner, allow(p), "add")));
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect(((results[0] as PromiseRejectedResult).reason as Error).message).toContain("cannot load ufw's code");
});

test("hosts batch apart", async () => {
  const a = scriptedHost("host-a", () => true);
  const b = scriptedHost("host-b", () => true);
  await Promise.all([ufwChange(a.runner, allow(1), "add"), ufwChange(b.runner, allow(2), "add")]);
  expect([a.batches, b.batches]).toEqual([[[allow(1).slice(1)]], [[allow(2).slice(1)]]]);
});

const SAVED_TEXT = "### tuple ### allow tcp 1 0.0.0.0/0 any 198.51.100.0/24 in comment=7073742e78\n";
const check = (port: number) => ["iptables", "-w", "-C", "ufw-user-input", "-p", "tcp", "--dport", String(port), "-j", "ACCEPT"];

test("a checked change gets what its batch saw after every change: its check's result and ufw's saved rules", async () => {
  // Change 0's check passed, change 1's did not: each caller gets its own.
  const after = () => `PST-UFW-LIVE {"change":0,"exit":0}\nPST-UFW-LIVE {"change":1,"exit":1}\nPST-UFW-SAVED ${JSON.stringify(SAVED_TEXT)}\n`;
  const host = scriptedHost("after", () => true, { after, delayMs: 30 });
  const first = ufwChange(host.runner, allow(9), "add");
  await new Promise((r) => setTimeout(r, 5));
  const [, a, b] = await Promise.all([
    first,
    ufwChange(host.runner, allow(1), "add", undefined, check(1)),
    ufwChange(host.runner, allow(2), "add", undefined, check(2)),
  ]);
  expect(host.checks[1]).toEqual([check(1), check(2)]);
  expect(a).toEqual({ live: true, saved: SAVED_TEXT });
  expect(b).toEqual({ live: false, saved: SAVED_TEXT });
});

test("without the batch's check line or its saved rules, the caller gets nothing to verify from and reads for itself", async () => {
  const noSaved = scriptedHost("no-saved", () => true, { after: () => `PST-UFW-LIVE {"change":0,"exit":0}\n` });
  expect(await ufwChange(noSaved.runner, allow(1), "add", undefined, check(1))).toBeUndefined();
  const noLive = scriptedHost("no-live", () => true, { after: () => `PST-UFW-SAVED ${JSON.stringify(SAVED_TEXT)}\n` });
  expect(await ufwChange(noLive.runner, allow(1), "add", undefined, check(1))).toBeUndefined();
  const cut = scriptedHost("cut", () => true, { after: () => `PST-UFW-LIVE {"change":0,"exit":0}\nPST-UFW-SAVED "### tuple ###` });
  expect(await ufwChange(cut.runner, allow(1), "add", undefined, check(1))).toBeUndefined();
  // One by one (ufw's code not loaded), nothing is seen after.
  const single = scriptedHost("single", () => true, { exitCode: 3 });
  expect(await ufwChange(single.runner, allow(1), "add", undefined, check(1))).toBeUndefined();
});
