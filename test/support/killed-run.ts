import { spawn } from "node:child_process";
import { probe } from "./lab";
import type { TestStack } from "./stack";

/** What happened to a run killed on evidence. */
export interface KilledRun<T> {
  /** What the evidence showed when the kill was sent (undefined: never seen). */
  seen?: T;
  /** True when the run had already ended on its own before the evidence showed: the kill missed. */
  endedFirst: boolean;
}

/**
 * `pulumi up` killed part-way, once `evidence` first returns a value (polled every few ms).
 * "group": SIGKILL to the run's process group, as a cancelled CI job does; the provider plugins
 * run in groups of their own and finish the step under way. "tree": the driver, the pulumi CLI and
 * the plugins all die at once, as when the runner is lost (stopped first, then killed, so none forks meanwhile).
 * `freezeEngineWhen`: once it returns a value, the pulumi CLI (the engine, which saves the state)
 * is stopped first while the provider finishes its step: a step whose end the state never records.
 */
export async function upKilledWhen<T>(
  stack: TestStack,
  config: Record<string, string>,
  secrets: Record<string, string>,
  evidence: () => Promise<T | undefined>,
  kill: "group" | "tree",
  freezeEngineWhen?: () => Promise<unknown>,
): Promise<KilledRun<T>> {
  const argv = stack.commandLine("up", config, secrets);
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore" });
  let ended = false;
  const exited = new Promise((resolve) => child.on("exit", () => resolve((ended = true))));
  if (freezeEngineWhen && (await pollUntil(freezeEngineWhen, () => ended)) !== undefined) {
    signal(
      (await descendants(child.pid as number)).filter((p) => p.comm === "pulumi").map((p) => p.pid),
      "SIGSTOP",
    );
  }
  const seen = await pollUntil(evidence, () => ended);
  const endedFirst = ended;
  if (!ended) await (kill === "tree" ? killTree(child.pid as number) : signal([-(child.pid as number)], "SIGKILL"));
  await exited;
  return { seen, endedFirst };
}

/** Polls `probe` every few ms for up to a minute, until it returns a value or `over()` says the run ended. */
async function pollUntil<T>(probe: () => Promise<T | undefined>, over: () => boolean): Promise<T | undefined> {
  for (const deadline = Date.now() + 60_000; !over() && Date.now() < deadline;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}

/** SIGSTOPs `root` and every process under it (listing again after the stop: none can fork now), then SIGKILLs them all. */
async function killTree(root: number): Promise<void> {
  signal([root, ...(await descendants(root)).map((p) => p.pid)], "SIGSTOP");
  signal([root, ...(await descendants(root)).map((p) => p.pid)], "SIGKILL");
}

/** Signals each pid (a negative one: its process group); one already gone is skipped. */
function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
}

async function descendants(root: number): Promise<{ pid: number; comm: string }[]> {
  const children = new Map<number, { pid: number; comm: string }[]>();
  for (const line of (await probe(undefined, ["ps", "-e", "-o", "pid=,ppid=,comm="])).trim().split("\n")) {
    const [pid, ppid, comm] = line.trim().split(/\s+/);
    children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), { pid: Number(pid), comm }]);
  }
  const found: { pid: number; comm: string }[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue.push(...next.map((p) => p.pid));
  }
  return found;
}
