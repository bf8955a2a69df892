import { freshReads } from "../../../provider/host/fresh-reads";
import type { RunResult, Runner } from "../../../provider/host/runner";

/** A host whose every run takes `delayMs` and answers with its own sequence number; records each run's argv. */
function countingHost(where: string, delayMs = 20, fail = false) {
  const runs: string[][] = [];
  const runner: Runner = {
    where,
    close: async () => {},
    run: async (argv: readonly string[]): Promise<RunResult> => {
      runs.push([...argv]);
      const n = runs.length;
      await new Promise((r) => setTimeout(r, delayMs));
      if (fail) throw new Error(`run ${n} lost its connection`);
      return { exitCode: 0, stdout: `run ${n}`, stderr: "", timedOut: false };
    },
  };
  return { runner, runs };
}

const LIST = ["nft", "-a", "-j", "list", "table", "inet", "t"];

test("callers asking together share one run", async () => {
  const host = countingHost("together");
  const results = await Promise.all([1, 2, 3].map(() => freshReads(host.runner).run(LIST)));
  expect(results.map((r) => r.stdout)).toEqual(["run 1", "run 1", "run 1"]);
  expect(host.runs).toHaveLength(1);
});

test("a caller asking while a run is under way never gets that run: it gets the next one, shared with the others who asked meanwhile", async () => {
  const host = countingHost("under-way");
  const first = freshReads(host.runner).run(LIST);
  await new Promise((r) => setTimeout(r, 5));
  expect(host.runs).toHaveLength(1);
  const later = [freshReads(host.runner).run(LIST), freshReads(host.runner).run(LIST)];
  // The next run starts only once the one under way has ended: never two of the same read at once.
  expect(host.runs).toHaveLength(1);
  expect((await first).stdout).toBe("run 1");
  expect((await Promise.all(later)).map((r) => r.stdout)).toEqual(["run 2", "run 2"]);
});

test("a failure reaches every caller of that run, and the next caller runs again", async () => {
  const host = countingHost("failing", 5, true);
  const results = await Promise.allSettled([1, 2].map(() => freshReads(host.runner).run(LIST)));
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  await expect(freshReads(host.runner).run(LIST)).rejects.toThrow("run 2 lost its connection");
});

test("different argv, different hosts and commands with stdin never share", async () => {
  const a = countingHost("host-a");
  const b = countingHost("host-b");
  await Promise.all([
    freshReads(a.runner).run(LIST),
    freshReads(a.runner).run(["ip", "-o", "addr", "show"]),
    freshReads(b.runner).run(LIST),
    freshReads(a.runner).run(["cat"], { input: "x" }),
    freshReads(a.runner).run(["cat"], { input: "x" }),
  ]);
  expect(a.runs).toHaveLength(4);
  expect(b.runs).toHaveLength(1);
});

test("runners of the same user on the same host (Runner.host) share; a different time limit does not", async () => {
  const host = countingHost("shared-host");
  const key = {};
  const one: Runner = { ...host.runner, host: key };
  const two: Runner = { ...host.runner, host: key };
  await Promise.all([freshReads(one).run(LIST), freshReads(two).run(LIST), freshReads(two).run(LIST, { timeoutMs: 5000 })]);
  expect(host.runs).toHaveLength(2);
});
