import type { Runner } from "../host/runner";
import { withLocalLock } from "./local-lock";

/**
 * A change waiting for its host's next batch; `done` settles its caller's promise, with what the
 * batch saw of this change when it has something to say (`R`: a listing made after it).
 */
export interface QueuedChange<R = void> {
  runner: Runner;
  /** What the change does and how to fix a failure, for its error. */
  what: string;
  hint?: string;
  done: (err?: Error, result?: R) => void;
}

/**
 * Changes to one host's firewall, queued and applied a batch at a time, each batch under one
 * exclusive hold of the firewall lock (this process's, then the host's). Why: the changes of a
 * host run one at a time (they are planned from listings), so fifty resources changing it at once
 * wait in line, each paying its own process start and lock hand-over; changes that arrive while a
 * batch runs go in the next one, so the first change of a run is not delayed at all. `runBatch`
 * settles the changes it is given; when it throws, those it left unsettled get its error.
 * Returns the function that queues a change and resolves when it is applied (with the result
 * `runBatch` gave it, if any).
 */
export function changeQueue<R, C extends QueuedChange<R>>(
  maxBatch: number,
  runBatch: (batch: C[]) => Promise<void>,
): (change: Omit<C, "done">) => Promise<R | undefined> {
  const queues = new Map<string, C[]>();
  const drain = async (host: string): Promise<void> => {
    for (;;) {
      const queue = queues.get(host) ?? [];
      if (queue.length === 0) return void queues.delete(host);
      let batch: C[] = [];
      // The batch is taken once the lock is ours: changes that came while we waited join it. And
      // one turn of the event loop after: the reads let in ahead of it (readers first) have just
      // ended, and their callers queue the changes they planned from them a few awaits later;
      // taken at once, the batch left them all for the next (destroy of 50: 19 ufw batches, 13).
      await withLocalLock(queue[0].runner, "exclusive", async () => {
        await new Promise((resolve) => setImmediate(resolve));
        await runBatch((batch = queue.splice(0, maxBatch)));
      }).catch((err: Error) => {
        // Settling one already settled does nothing: only those left waiting get the error.
        for (const c of [...batch, ...queue.splice(0)]) c.done(err);
      });
    }
  };
  return (fields: Omit<C, "done">) =>
    new Promise<R | undefined>((resolve, reject) => {
      const change = { ...fields, done: (err?: Error, result?: R) => (err ? reject(err) : resolve(result)) } as C;
      const queue = queues.get(change.runner.where);
      if (queue) return void queue.push(change);
      queues.set(change.runner.where, [change]);
      void drain(change.runner.where);
    });
}
