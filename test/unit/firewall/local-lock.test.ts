import { withLocalLock } from "../../../provider/firewall/local-lock";

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Runs a holder that records when it starts and ends, holding the lock for a few ticks. */
function holder(log: string[], host: string, mode: "shared" | "exclusive", name: string): Promise<void> {
  return withLocalLock({ where: host }, mode, async () => {
    log.push(`${name}+`);
    await tick();
    await tick();
    log.push(`${name}-`);
  });
}

test("exclusive holders on one host never overlap", async () => {
  const log: string[] = [];
  await Promise.all([holder(log, "h", "exclusive", "a"), holder(log, "h", "exclusive", "b"), holder(log, "h", "exclusive", "c")]);
  expect(log).toEqual(["a+", "a-", "b+", "b-", "c+", "c-"]);
});

test("shared holders overlap, and a writer waits until no reader holds the lock", async () => {
  const log: string[] = [];
  await Promise.all([
    holder(log, "h", "shared", "r1"),
    holder(log, "h", "shared", "r2"),
    holder(log, "h", "exclusive", "w"),
    holder(log, "h", "shared", "r3"),
  ]);
  expect(log.slice(0, 3)).toEqual(["r1+", "r2+", "r3+"]);
  expect(log.indexOf("w+")).toBeGreaterThan(Math.max(log.indexOf("r1-"), log.indexOf("r2-"), log.indexOf("r3-")));
});

test("a reader waiting behind queued writers gets in as soon as the current writer is done", async () => {
  const log: string[] = [];
  const first = holder(log, "h", "exclusive", "w1");
  const rest = [holder(log, "h", "exclusive", "w2"), holder(log, "h", "exclusive", "w3"), holder(log, "h", "shared", "r")];
  await Promise.all([first, ...rest]);
  expect(log.indexOf("r+")).toBe(log.indexOf("w1-") + 1);
  expect(log.indexOf("w2+")).toBeGreaterThan(log.indexOf("r-"));
  // Writers still never overlap each other or a reader.
  expect(log.filter((e) => e.endsWith("+")).length).toBe(4);
});

test("different hosts do not wait for each other", async () => {
  const log: string[] = [];
  await Promise.all([holder(log, "h1", "exclusive", "a"), holder(log, "h2", "exclusive", "b")]);
  expect(log.slice(0, 2).sort()).toEqual(["a+", "b+"]);
});

test("a holder that throws releases the lock", async () => {
  await expect(
    withLocalLock({ where: "h" }, "exclusive", async () => {
      throw new Error("boom");
    }),
  ).rejects.toThrow("boom");
  await expect(withLocalLock({ where: "h" }, "exclusive", async () => "next")).resolves.toBe("next");
});

test("a change that has to queue says so through the runner's report, with how many are ahead", async () => {
  const lines: string[] = [];
  const runner = { where: "h", report: (line: string) => lines.push(line) };
  const hold = () => withLocalLock(runner, "exclusive", tick);
  await Promise.all([hold(), hold(), hold()]);
  expect(lines).toEqual(["waiting for the firewall on h (1 change ahead)", "waiting for the firewall on h (2 changes ahead)"]);
});
