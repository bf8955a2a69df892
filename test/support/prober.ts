import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

/**
 * A client that keeps trying to connect while an operation runs: the way a test observes the
 * gate's promise ("nobody else gets in, at any moment"), not only the end state. It runs inside a
 * lab namespace as its own Node process and opens a TCP connection to each target every
 * `intervalMs`; a completed handshake is a breach (a listener answered), a refusal or timeout is
 * not. The attempt count proves it really tried during the whole operation.
 */
export interface ProbeReport {
  attempts: number;
  /** Completed handshakes, per target ("host:port"). */
  connected: Record<string, number>;
  /** Each connected attempt: target and ms since the prober started. */
  breaches: { target: string; atMs: number }[];
  durationMs: number;
}

export interface Prober {
  /** Stops trying and reports what happened. */
  stop(): Promise<ProbeReport>;
}

export interface ProbeTarget {
  host: string;
  port: number;
}

// One connect per target per tick; ticks do not overlap, so a slow (dropped) attempt delays the next.
const SCRIPT = `
const net = require("net");
const targets = JSON.parse(process.argv[1]);
const every = Number(process.argv[2]);
const start = Date.now();
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });
function attempt(t) {
  return new Promise((resolve) => {
    const s = net.connect({ host: t.host, port: t.port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(300, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}
(async () => {
  process.stdout.write("ready\\n");
  while (!stopping) {
    const began = Date.now();
    const results = await Promise.all(targets.map(attempt));
    results.forEach((ok, i) => process.stdout.write((ok ? "in " : "no ") + targets[i].host + " " + targets[i].port + " " + (Date.now() - start) + "\\n"));
    await new Promise((r) => setTimeout(r, Math.max(0, every - (Date.now() - began))));
  }
  process.stdout.write("end " + (Date.now() - start) + "\\n");
  process.exit(0);
})();
`;

/** Starts a client in `ns` trying every target every `intervalMs` (100 by default) until `stop()`. */
export async function startProber(ns: string, targets: ProbeTarget[], intervalMs = 100): Promise<Prober> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", SCRIPT, JSON.stringify(targets), String(intervalMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    out += chunk;
  });
  const exited = once(child, "exit");
  const deadline = Date.now() + 10_000;
  while (!out.startsWith("ready\n")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the prober in ${ns} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    async stop() {
      child.kill("SIGTERM");
      await exited;
      return parseProbeOutput(out);
    },
  };
}

function parseProbeOutput(text: string): ProbeReport {
  const report: ProbeReport = { attempts: 0, connected: {}, breaches: [], durationMs: 0 };
  for (const line of text.split("\n")) {
    const [verdict, host, port, ms] = line.split(" ");
    if (verdict === "end") report.durationMs = Number(host);
    if (verdict !== "in" && verdict !== "no") continue;
    report.attempts++;
    const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    if (verdict === "in") {
      report.connected[target] = (report.connected[target] ?? 0) + 1;
      report.breaches.push({ target, atMs: Number(ms) });
    }
  }
  return report;
}

/**
 * Runs `work` while an untrusted client keeps trying `targets`; fails the test if it ever got in,
 * and if it made too few attempts to have watched the whole operation (at least one per second).
 */
export async function whileUntrustedTries<T>(
  ns: string,
  targets: ProbeTarget[],
  work: () => Promise<T>,
): Promise<{ result: T; report: ProbeReport }> {
  const prober = await startProber(ns, targets);
  const outcome = await work().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const report = await prober.stop();
  if ("error" in outcome) throw outcome.error;
  const result = outcome.value;
  const perTarget = report.attempts / targets.length;
  if (report.breaches.length > 0) {
    throw new Error(`the untrusted client got in ${report.breaches.length} times: ${JSON.stringify(report.breaches.slice(0, 10))}`);
  }
  if (perTarget < Math.max(3, report.durationMs / 1000)) {
    throw new Error(`the prober made only ${report.attempts} attempts in ${report.durationMs} ms; it did not watch the whole operation`);
  }
  return { result, report };
}
