import { changeQueue, type QueuedChange } from "../../../provider/firewall/change-queue";
import { withLocalLock } from "../../../provider/firewall/local-lock";
import type { Runner } from "../../../provider/host/runner";

const runner: Runner = {
  where: "queue-test-host",
  run: async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false }),
  close: async () => {},
};
type Change = QueuedChange & { name: string };

function recording() {
  const batches: string[][] = [];
  const enqueue = changeQueue<void, Change>(64, async (batch) => {
    batches.push(batch.map((c) => c.name));
    for (const c of batch) c.done();
  });
  return { batches, enqueue: (name: string) => enqueue({ runner, what: `change ${name}`, name }) };
}

test("a change planned from a read that ended as the batch got the lock goes in that batch, not the next", async () => {
  const { batches, enqueue } = recording();
  let endRead = () => {};
  const readEnds = new Promise<void>((resolve) => (endRead = resolve));
  // A read under the shared lock (a rule's look at the saved rules before its change).
  const read = withLocalLock(runner, "shared", () => readEnds);
  // A change queued meanwhile: its batch waits for the read (readers first).
  const first = enqueue("a");
  // The reader's caller plans its change from the read, a few awaits later, then queues it.
  const planned = read.then(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    return enqueue("b");
  });
  endRead();
  await Promise.all([first, planned]);
  expect(batches).toEqual([["a", "b"]]);
});

test("changes queued while a batch runs go in the next one, together", async () => {
  const batches: string[][] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const enqueue = changeQueue<void, Change>(64, async (batch) => {
    batches.push(batch.map((c) => c.name));
    if (batches.length === 1) await released;
    for (const c of batch) c.done();
  });
  const q = (name: string) => enqueue({ runner, what: `change ${name}`, name });
  const a = q("a");
  // Until the first batch runs (bounded: a few turns of the event loop).
  for (let i = 0; i < 100 && batches.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  const rest = [q("b"), q("c")];
  release();
  await Promise.all([a, ...rest]);
  expect(batches).toEqual([["a"], ["b", "c"]]);
});
