import { createHash } from "node:crypto";
import { SharedTunnelError } from "../errors";
import type { Report } from "./report";
import { commandLimitMs, hostTimeoutError, type RunOptions, type RunResult, type Runner } from "./runner";
import type { RemoteConnection } from "./remote-connection";
import { Ssh2Runner } from "./ssh2-runner";

/**
 * One ssh2 connection per tunnel host and credentials, shared by every resource the provider
 * process handles (Pulumi runs all of a stack's dynamic resources in one process).
 *
 * Why: a stack with 20 tunnels on one host otherwise opens 20+ connections at once, and sshd drops
 * unauthenticated connections past MaxStartups (default 10:30:100); each connect also costs a
 * full key exchange. Channels on one connection are capped below sshd's MaxSessions (default 10).
 */
const MAX_CHANNELS = 8;
const IDLE_CLOSE_MS = 5000;

interface Entry {
  connecting: Promise<Ssh2Runner>;
  /** Runners handed out and not yet closed. */
  users: number;
  /** Commands running now (at most MAX_CHANNELS). */
  active: number;
  waiting: (() => void)[];
  idleTimer?: NodeJS.Timeout;
  /** Called when the last running command ends (set while closeAllConnections waits). */
  onIdle?: () => void;
}

const pool = new Map<string, Entry>();
/** Set by closeAllConnections: the process is leaving, so no new connection or command starts. */
let closing = false;

/** A runner on the shared connection for `conn`; its close() only releases it. `report` hears of a new connection. */
export function acquireRemote(conn: RemoteConnection, report: Report): Promise<Runner> {
  if (closing) return Promise.reject(shuttingDown(`${conn.user}@${conn.host}`));
  const key = poolKey(conn);
  let entry = pool.get(key);
  if (!entry) {
    const hops = conn.jumpHosts?.length ? ` through ${conn.jumpHosts.length} jump host${conn.jumpHosts.length > 1 ? "s" : ""}` : "";
    report(`connecting to ${conn.user}@${conn.host}${hops}`);
    entry = { connecting: Ssh2Runner.connect(conn), users: 0, active: 0, waiting: [] };
    pool.set(key, entry);
    // A failed connect is not cached: the next resource tries again.
    entry.connecting.catch(() => pool.delete(key));
  }
  const e = entry;
  return e.connecting.then((ssh) => {
    if (ssh.closed) {
      pool.delete(key);
      return acquireRemote(conn, report);
    }
    return sharedRunner(key, e, ssh);
  });
}

function sharedRunner(key: string, e: Entry, ssh: Ssh2Runner): Runner {
  if (e.idleTimer) clearTimeout(e.idleTimer);
  e.users++;
  let released = false;
  return {
    where: ssh.where,
    host: ssh,
    run: async (argv: readonly string[], options?: RunOptions): Promise<RunResult> => {
      await takeChannel(e, ssh.where, argv);
      try {
        return await ssh.run(argv, options);
      } finally {
        releaseChannel(e);
      }
    },
    close: async () => {
      if (released) return;
      released = true;
      if (--e.users > 0) return;
      // Close the connection once nobody has used it for a while; unref so it never holds a process open.
      if (e.idleTimer) clearTimeout(e.idleTimer);
      e.idleTimer = setTimeout(() => {
        if (e.users === 0 && pool.get(key) === e) {
          pool.delete(key);
          void ssh.close();
        }
      }, IDLE_CLOSE_MS).unref();
    },
  };
}

/**
 * A slot on the connection. A freed slot is handed straight to the first waiter (active stays the
 * same), so a caller arriving between the release and the waiter's wake-up cannot take it: never
 * more than MAX_CHANNELS commands at once. The wait is bounded: every command ahead is bounded by
 * its own limit, yet a queue that does not move within the slot limit means the host has stalled.
 */
async function takeChannel(e: Entry, where: string, argv: readonly string[]): Promise<void> {
  if (closing) throw shuttingDown(where);
  if (e.active < MAX_CHANNELS) {
    e.active++;
    return;
  }
  const limitMs = slotLimitMs();
  await new Promise<void>((resolve, reject) => {
    const waiter = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      e.waiting.splice(e.waiting.indexOf(waiter), 1);
      reject(
        hostTimeoutError(
          argv,
          where,
          `no free channel on the connection within ${limitMs / 1000} s (${MAX_CHANNELS} commands running, ${e.waiting.length} waiting)`,
        ),
      );
    }, limitMs);
    e.waiting.push(waiter);
  });
  // The slot is ours now; if the process began closing meanwhile, pass it on and refuse.
  if (closing) {
    releaseChannel(e);
    throw shuttingDown(where);
  }
}

function releaseChannel(e: Entry): void {
  const next = e.waiting.shift();
  if (next) return next();
  e.active--;
  if (e.active === 0) e.onIdle?.();
}

/** How long a command may wait for a slot: a few command limits, since the queue may be long. */
function slotLimitMs(): number {
  return 3 * commandLimitMs();
}

/**
 * For a process about to exit: refuses new connections and commands, lets the commands already
 * running finish (at most `graceMs`: a firewall change is better completed than cut half-way),
 * then closes every pooled connection.
 */
export async function closeAllConnections(graceMs: number): Promise<void> {
  closing = true;
  const entries = [...pool.values()];
  pool.clear();
  await Promise.all(
    entries.map(async (e) => {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      const ssh = await e.connecting.catch(() => undefined);
      if (!ssh) return;
      if (e.active > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          e.onIdle = resolve;
          timer = setTimeout(resolve, graceMs).unref();
        });
        clearTimeout(timer);
      }
      await ssh.close();
    }),
  );
}

function shuttingDown(where: string): SharedTunnelError {
  return new SharedTunnelError("this process is exiting and has closed its connections", {
    what: "run a command on the tunnel host",
    where,
    hint: "run the operation again",
  });
}

/**
 * Same chain (every jump host and the tunnel host: host, port, user, pinned key, credentials) and
 * agent share a connection; rotated credentials or other hops do not.
 */
function poolKey(conn: RemoteConnection): string {
  const steps = [...(conn.jumpHosts ?? []), conn].map((s) => {
    const secret = createHash("sha256")
      .update(JSON.stringify([s.privateKey, s.privateKeyPassphrase, s.privateKeyPath]))
      .digest("hex");
    return [s.host, s.port ?? 22, s.user, (s.hostKey ?? "").trim().split(/\s+/)[1], secret];
  });
  const agent = conn.agent === true ? ["SSH_AUTH_SOCK", process.env.SSH_AUTH_SOCK] : conn.agent;
  return JSON.stringify([steps, agent]);
}
