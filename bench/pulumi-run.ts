/**
 * How the benchmark runs pulumi and the raw commands, and what it reads back from each run: the
 * `pulumi up`/`destroy` commands' own time (bench/timed-pulumi.sh stands in for the CLI on PATH),
 * the whole Automation API call's, the provider's host commands (PULUMI_SHARED_TUNNEL_TRACE) and
 * the dynamic provider's peak memory.
 */
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../provider/host/local-runner";
import type { Lab } from "../test/support/lab";
import { YamlStack } from "../test/support/yaml-stack";
import { measurePeakRss } from "./peak-rss";

export const ROOT = path.resolve(__dirname, "../..");
export const GATED = path.join(ROOT, "bench/programs/gated-many");
export const NOOP = path.join(ROOT, "bench/programs/noop-dynamic");
/** The engine alone at N: N no-op pairs, each resource's state about the size of ours (the floor). */
export const NOOP_MANY = path.join(ROOT, "bench/programs/noop-many");
const local = new LocalRunner();

/** A `pulumi` on PATH that is bench/timed-pulumi.sh. */
const shimDir = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-bench-bin-"));
  symlinkSync(path.join(ROOT, "bench/timed-pulumi.sh"), path.join(dir, "pulumi"));
  return dir;
})();

/**
 * One pulumi command: the whole Automation API call (`ms`), the CLI command's own time (`cliMs`),
 * and the CPU time the whole machine spent during it (`cpuMs`: every core and process, the lab's too).
 */
export interface Timed {
  ms: number;
  cliMs: number;
  cpuMs: number;
}

/** Runs one pulumi command on a bench stack with its own backend, tracing every host command. */
export async function pulumi(
  command: string,
  stack: string,
  backend: string,
  config: Record<string, string> = {},
  dir = GATED,
  flags: string[] = [],
): Promise<Timed> {
  const times = `${backend}/cli-times`;
  const argv = [
    "env",
    `PATH=${shimDir}:${process.env.PATH ?? ""}`,
    `PST_BENCH_CLI_TIMES=${times}`,
    `PULUMI_BACKEND_URL=file://${backend}`,
    `PULUMI_HOME=${backend}/.home`,
    `PULUMI_SHARED_TUNNEL_TRACE=${backend}/trace.log`,
    process.execPath,
    path.join(ROOT, "dist/scripts/pulumi-stack.js"),
    command,
    "--dir",
    dir,
    "--stack",
    stack,
  ];
  for (const [k, v] of Object.entries(config)) argv.push("--config", `${k}=${v}`);
  argv.push(...flags);
  const started = Date.now();
  const r = await local.run(argv, { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`pulumi ${command} ${stack} failed:\n${r.stderr.slice(-3000)}`);
  const ms = Date.now() - started;
  const own = readFileSync(times, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([c]) => c === command);
  if (own.length === 0) throw new Error(`no time recorded for pulumi ${command}: is ${shimDir}/pulumi first on PATH?`);
  return { ms, cliMs: Number(own[own.length - 1][1]), cpuMs: Number(own[own.length - 1][2]) };
}

export function benchConfig(lab: Lab, count: number, basePort: number): Record<string, string> {
  return {
    count: String(count),
    basePort: String(basePort),
    tunnelHost: lab.thSshAddr,
    tunnelHostKeyPath: lab.thKey,
    tunnelHostKey: lab.thHostKey,
    gatewayHost: lab.gwAddr,
    gatewayUser: lab.gwUser,
    gatewayKeyPath: lab.gwKey,
    gatewayHostKey: lab.gwHostKey,
    bindAddress: lab.thTrusted,
    source: lab.trustedCidr,
  };
}

/** The raw commands' up and teardown: their times, and the machine's CPU time during each. */
export interface RawRun {
  up: number;
  down: number;
  upCpu: number;
  downCpu: number;
}

/** bench/raw-gated-tunnels.sh on the tunnel host: the raw commands' up and teardown. */
export async function raw(lab: Lab, count: number, basePort: number): Promise<RawRun> {
  const script = path.join(ROOT, "bench/raw-gated-tunnels.sh");
  const args = [String(count), String(basePort), lab.thTrusted, lab.trustedCidr, lab.gwAddr, lab.gwUser, lab.gwKey, `${lab.dir}/known_hosts_gw`];
  const r = await local.run(["ip", "netns", "exec", lab.nsTh, "bash", script, ...args], { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`raw script failed: ${r.stderr}`);
  const [up, down, upCpu, downCpu] = r.stdout.trim().split(" ").map(Number);
  return { up, down, upCpu, downCpu };
}

export function traceLines(backend: string): number {
  return traceStats(backend).commands;
}

/** The host commands traced in `backend` (PULUMI_SHARED_TUNNEL_TRACE): how many, and their summed duration. */
export function traceStats(backend: string): { commands: number; ms: number } {
  let text: string;
  try {
    text = readFileSync(`${backend}/trace.log`, "utf8");
  } catch {
    return { commands: 0, ms: 0 };
  }
  // A traced command spans lines when its script does; each starts with an ISO time, then host, then its duration.
  const lines = text.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
  return { commands: lines.length, ms: lines.reduce((sum, l) => sum + Number(/^[^\t]*\t[^\t]*\t(\d+)ms/.exec(l)?.[1] ?? 0), 0) };
}

/** The two front ends: the TypeScript classes (dynamic resources) and the provider plugin (frontEnd=plugin). */
export type FrontEnd = "typescript" | "plugin";

/** One `pulumi up` then `destroy` on a fresh backend. */
export interface UpDown {
  up: Timed;
  down: Timed;
  /** Host commands of the up and of the destroy, and their summed time. */
  commands: number;
  upCommands: number;
  downCommands: number;
  commandMs: number;
  /** The provider's peak resident set during the up, kB. */
  peakKb: number;
}

export async function upAndDown(
  lab: Lab,
  n: number,
  stack: string,
  dir = GATED,
  flags: string[] = [],
  frontEnd: FrontEnd = "typescript",
): Promise<UpDown> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
  if (frontEnd === "plugin") installPluginInto(path.join(backend, ".home"));
  const config = { ...benchConfig(lab, n, 9100), ...(frontEnd === "plugin" ? { frontEnd } : {}) };
  const { result: up, peakKb } = await measurePeakRss(() => pulumi("up", stack, backend, config, dir, flags));
  const upCommands = traceLines(backend);
  const down = await pulumi("destroy", stack, backend, {}, dir, flags);
  const { commands, ms } = traceStats(backend);
  return { up, down, commands, upCommands, downCommands: commands - upCommands, commandMs: ms, peakKb };
}

let pluginHome: string | undefined;

/**
 * Installs the provider plugin from its tarball into a PULUMI_HOME, as a user does (YamlStack's
 * way): once per bench run into a home of its own, then copied into each stack's.
 */
export function installPluginInto(home: string): void {
  if (!pluginHome) throw new Error("the plugin is not installed yet: await preparePlugin() first");
  cpSync(path.join(pluginHome, "plugins"), path.join(home, "plugins"), { recursive: true });
}

export async function preparePlugin(): Promise<void> {
  if (pluginHome) return;
  const installer = new YamlStack("install");
  await installer.installPlugin();
  pluginHome = installer.home;
}

/**
 * What a user's `pulumi up` pays that the inline program does not show in the CLI's time: its
 * language host starts Node and loads the program (@pulumi/pulumi and this package). Node alone
 * is the rest of the inline harness, not measured here.
 */
export async function programLoadMs(): Promise<number> {
  const load = `require(${JSON.stringify(path.join(ROOT, "node_modules/@pulumi/pulumi"))}); require(${JSON.stringify(path.join(ROOT, "dist/bench/programs/gated-many/index.js"))})`;
  const started = Date.now();
  const r = await local.run([process.execPath, "-e", load], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`loading the program failed: ${r.stderr}`);
  return Date.now() - started;
}

/** The median of `times` runs by `key` (single runs of a second or two are noisy). */
export async function medianOf<T>(times: number, fn: () => Promise<T>, key: (t: T) => number): Promise<{ median: T; all: T[] }> {
  const all: T[] = [];
  for (let i = 0; i < times; i++) all.push(await fn());
  const sorted = [...all].sort((a, b) => key(a) - key(b));
  return { median: sorted[Math.floor(times / 2)], all };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
