import { acquireRemote, closeAllConnections } from "../../../provider/host/connection-pool";
import type { RunResult } from "../../../provider/host/runner";
import { Ssh2Runner } from "../../../provider/host/ssh2-runner";

/**
 * A connection whose commands end in batches (every command running ends on the same turn, as
 * answers read from one socket chunk do), counting how many run at once. Each finished command's
 * caller at once starts another (as a create's next step does): with two slots freed in one turn,
 * that caller runs between the first waiter's wake-up and the second's, which is when it can take
 * a slot meant for a waiter.
 */
function countingConnection(): { running: () => number; most: () => number } {
  let running = 0;
  let most = 0;
  let tick: Promise<void> | undefined;
  // Every command that starts before the next turn ends on that turn, together.
  const sharedTurn = () =>
    (tick ??= new Promise<void>((r) =>
      setImmediate(() => {
        tick = undefined;
        r();
      }),
    ));
  const fake = {
    where: "test@pool:22",
    closed: false,
    run: async (): Promise<RunResult> => {
      running++;
      most = Math.max(most, running);
      await sharedTurn();
      running--;
      return { exitCode: 0, stdout: "", stderr: "", timedOut: false };
    },
    close: async () => {},
  };
  jest.spyOn(Ssh2Runner, "connect").mockResolvedValue(fake as unknown as Ssh2Runner);
  return { running: () => running, most: () => most };
}

afterAll(() => closeAllConnections(100));

test("never more commands at once on one connection than its channel limit, even as callers keep arriving", async () => {
  const counter = countingConnection();
  const conn = { host: "198.18.0.2", user: "root", hostKey: "ssh-ed25519 AAAA", privateKey: "k" };
  const runner = await acquireRemote(conn, () => {});
  // 40 callers, each running 10 commands back to back: 400 commands through 8 channels.
  const caller = async () => {
    for (let i = 0; i < 10; i++) {
      await runner.run(["true"]);
      // The next command starts in the same turn its predecessor's result arrives.
      void runner.run(["true"]);
    }
  };
  await Promise.all(Array.from({ length: 40 }, caller));
  while (counter.running() > 0) await new Promise((r) => setImmediate(r));
  expect(counter.most()).toBeLessThanOrEqual(8);
  expect(counter.most()).toBe(8);
  await runner.close();
});
