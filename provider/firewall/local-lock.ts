import { FirewallError } from "../errors";
import { commandLimitMs, type Runner } from "../host/runner";

/**
 * The firewall lock's twin inside this provider process, one per host. Why: the host's flock
 * makes a waiting command hold one of the connection's few channels while it waits, so 50 rules
 * queued on one host starved every other command (the forwards waited for channels, not for the
 * firewall). Waiting here instead costs nothing; the host's flock still orders us against other
 * processes and stacks.
 */
interface HostLock {
  /** Readers holding the lock now (when writing is false). */
  readers: number;
  writing: boolean;
  queue: { mode: "shared" | "exclusive"; grant: () => void }[];
}

const locks = new Map<string, HostLock>();

/** Runs `work` holding the lock of the runner's host: any number of shared holders, or one exclusive. */
export async function withLocalLock<T>(runner: Pick<Runner, "where" | "report">, mode: "shared" | "exclusive", work: () => Promise<T>): Promise<T> {
  const host = runner.where;
  const lock = locks.get(host) ?? { readers: 0, writing: false, queue: [] };
  locks.set(host, lock);
  // Bounded like every wait: each holder's commands are bounded, so a lock held past a few command
  // limits means a holder is stuck, and waiting longer would only hang this resource too.
  const limitMs = 3 * commandLimitMs();
  await new Promise<void>((granted, refuse) => {
    const timer = setTimeout(() => {
      lock.queue = lock.queue.filter((w) => w.grant !== grant);
      refuse(
        new FirewallError(`it stayed busy for ${limitMs / 1000} s`, {
          what: "wait for this process's other changes to the firewall",
          where: host,
          hint: "another resource's firewall change on this host did not finish; run the operation again, and check the host if it recurs",
        }),
      );
    }, limitMs);
    const grant = () => {
      clearTimeout(timer);
      granted();
    };
    lock.queue.push({ mode, grant });
    admit(lock);
    // Still queued: say so, since 50 rules on one host queue for seconds.
    if (mode === "exclusive" && lock.queue.some((w) => w.grant === grant)) {
      const ahead = lock.queue.filter((w) => w.mode === "exclusive").length - 1 + (lock.writing ? 1 : 0);
      runner.report?.(`waiting for the firewall on ${host} (${ahead} change${ahead === 1 ? "" : "s"} ahead)`);
    }
  });
  try {
    return await work();
  } finally {
    if (mode === "exclusive") lock.writing = false;
    else lock.readers--;
    admit(lock);
    if (!lock.writing && lock.readers === 0 && lock.queue.length === 0) locks.delete(host);
  }
}

/**
 * Readers first: whenever no writer holds the lock, every waiting reader gets in, even past
 * waiting writers; a writer gets in once no reader holds it. Why: each rule's create reads
 * (plan, verify) around its one write, and with 50 writes queued in arrival order a verify
 * waited for all 49 other writes, so no create finished until the last rule was in. Reads take
 * milliseconds and each create makes a bounded number of them, so writers are not starved.
 */
function admit(lock: HostLock): void {
  if (lock.writing) return;
  for (const reader of lock.queue.filter((w) => w.mode === "shared")) {
    lock.readers++;
    reader.grant();
  }
  lock.queue = lock.queue.filter((w) => w.mode === "exclusive");
  if (lock.readers > 0 || lock.queue.length === 0) return;
  lock.writing = true;
  (lock.queue.shift() as HostLock["queue"][number]).grant();
}
