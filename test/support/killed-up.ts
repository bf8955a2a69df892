import { spawn } from "node:child_process";
import { sshProcessesWith } from "./lab";
import type { TestStack } from "./stack";

/**
 * Starts `up` in its own process group and SIGKILLs the group (as a cancelled CI job does) as soon
 * as an ssh whose argv carries `prefix` exists, i.e. mid-create. `beforeKill` runs just before the
 * kill (to note which processes the run had). Returns false when the run finished first (a miss
 * the caller may retry); throws when the forward never started.
 */
export async function killUpMidCreate(
  stack: TestStack,
  config: Record<string, string>,
  prefix: string,
  beforeKill?: () => Promise<void>,
): Promise<boolean> {
  const argv = stack.argv("up");
  for (const [k, v] of Object.entries(config)) argv.push("--config", `${k}=${v}`);
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore", env: { ...process.env, ...stack.env() } });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // Polled every few ms: create is fast now, and the kill must land before pulumi saves the state.
  let started: string | undefined;
  for (const deadline = Date.now() + 60_000; !started && Date.now() < deadline;) {
    started = (await sshProcessesWith(prefix))[0];
    if (!started) await new Promise((r) => setTimeout(r, 5));
  }
  await beforeKill?.();
  let killed = true;
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    killed = false;
  }
  await exited;
  if (!started) throw new Error("the forward never started");
  return killed;
}
