import { LocalRunner } from "../../../provider/host/local-runner";
import { sharedReads } from "../../../provider/host/shared-reads";

// Real commands whose output differs on every run, so sharing is visible in the results.
const local = new LocalRunner();
const nanos = ["date", "+%s%N"];

test("the same read made at once by many resources runs once", async () => {
  const results = await Promise.all(Array.from({ length: 10 }, () => sharedReads(local).run(nanos)));
  expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
});

test("different argv are not shared", async () => {
  const [a, b] = await Promise.all([sharedReads(local).run(nanos), sharedReads(local).run(["date", "+%N%s"])]);
  expect(a.stdout).not.toBe(b.stdout);
});

test("a command given input is never shared", async () => {
  const [a, b] = await Promise.all([sharedReads(local).run(["cat"], { input: "one" }), sharedReads(local).run(["cat"], { input: "two" })]);
  expect([a.stdout, b.stdout]).toEqual(["one", "two"]);
});

test("a read a second old is made again", async () => {
  const first = await sharedReads(local).run(["date", "+%N-%s"]);
  await new Promise((r) => setTimeout(r, 1100));
  const second = await sharedReads(local).run(["date", "+%N-%s"]);
  expect(second.stdout).not.toBe(first.stdout);
});
