/**
 * `BENCH_ONLY=front-ends`: the same N GatedTunnels (50 by default, BENCH_FRONT_ENDS_N) made by the
 * TypeScript classes and by the provider plugin, from one harness and one program
 * (bench/programs/gated-many, frontEnd=plugin for the plugin's remote component), then from a YAML
 * program through the real CLI, separately. For each: `pulumi up` and `destroy` (the CLI command's
 * own time) and the checkpoint's bytes per resource, whole and by type, read after the up.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Lab } from "../test/support/lab";
import { YamlStack } from "../test/support/yaml-stack";
import { benchConfig, GATED, installPluginInto, preparePlugin, pulumi, ROOT } from "./pulumi-run";

interface FrontEndRow {
  frontEnd: string;
  n: number;
  upS: number;
  destroyS: number;
  resources: number;
  checkpointBytesPerResource: number;
  /** Compact JSON of one resource of each kind, as stored. */
  tunnelBytes: number;
  ruleBytes: number;
  componentBytes: number;
}

interface Checkpoint {
  checkpoint: { latest: { resources?: { type: string }[] } };
}

/** The stack's checkpoint file in a file backend, and what it holds. */
function checkpointOf(backend: string): { bytes: number; resources: { type: string }[] } {
  const dir = path.join(backend, ".pulumi", "stacks");
  const file = readdirSync(dir, { recursive: true, withFileTypes: true }).find((e) => e.isFile() && e.name.endsWith(".json"));
  if (!file) throw new Error(`no checkpoint under ${dir}`);
  const full = path.join(file.parentPath, file.name);
  const state = JSON.parse(readFileSync(full, "utf8")) as Checkpoint;
  return { bytes: statSync(full).size, resources: state.checkpoint.latest.resources ?? [] };
}

function row(frontEnd: string, n: number, upMs: number, destroyMs: number, cp: ReturnType<typeof checkpointOf>): FrontEndRow {
  const bytesOf = (suffix: string) => JSON.stringify(cp.resources.find((r) => r.type.endsWith(suffix)) ?? {}).length;
  return {
    frontEnd,
    n,
    upS: +(upMs / 1000).toFixed(1),
    destroyS: +(destroyMs / 1000).toFixed(1),
    resources: cp.resources.length,
    checkpointBytesPerResource: Math.round(cp.bytes / cp.resources.length),
    tunnelBytes: bytesOf(":SharedTunnel"),
    ruleBytes: bytesOf(":FirewallAllow"),
    componentBytes: bytesOf(":GatedTunnel"),
  };
}

/** One front end through the inline-program harness: up, read the checkpoint, destroy. */
async function viaHarness(lab: Lab, n: number, frontEnd: "typescript" | "plugin"): Promise<FrontEndRow> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-fe-"));
  if (frontEnd === "plugin") {
    await preparePlugin();
    installPluginInto(path.join(backend, ".home"));
  }
  const config = { ...benchConfig(lab, n, 9700), frontEnd };
  const up = await pulumi("up", `fe-${frontEnd}`, backend, config, GATED);
  const cp = checkpointOf(backend);
  const down = await pulumi("destroy", `fe-${frontEnd}`, backend, {}, GATED);
  return row(frontEnd === "plugin" ? "provider plugin (TypeScript program)" : "TypeScript classes", n, up.cliMs, down.cliMs, cp);
}

/** N GatedTunnels written out as a YAML program (YAML has no loops), keys by path like the TS program. */
function yamlProgram(lab: Lab, n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-bench-yaml-"));
  const c = benchConfig(lab, n, 9800);
  const resources = Array.from({ length: n }, (_, i) =>
    [
      `  t${i}:`,
      `    type: shared-tunnel:index:GatedTunnel`,
      `    properties:`,
      `      connection: { host: "${c.tunnelHost}", user: root, privateKeyPath: "${c.tunnelHostKeyPath}", hostKey: "${c.tunnelHostKey}" }`,
      `      gateway: { host: "${c.gatewayHost}", user: "${c.gatewayUser}", privateKeyPath: "${c.gatewayKeyPath}", hostKey: "${c.gatewayHostKey}" }`,
      `      bindAddress: "${c.bindAddress}"`,
      `      bindPort: ${9800 + i}`,
      `      targetHost: 127.0.0.1`,
      `      targetPort: 8000`,
      `      sources: ["${c.source}"]`,
    ].join("\n"),
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "Pulumi.yaml"), ["name: bench-gated-yaml", "runtime: yaml", "resources:", ...resources, ""].join("\n"));
  return dir;
}

/** The YAML program through the real CLI: the whole command's time, language host included. */
async function viaYaml(lab: Lab, n: number): Promise<FrontEndRow> {
  const stack = new YamlStack("fe-yaml", yamlProgram(lab, n));
  await stack.installPlugin();
  await stack.init({});
  const timed = async (args: string[]) => {
    const started = Date.now();
    await stack.ok(args);
    return Date.now() - started;
  };
  const upMs = await timed(["up", "--yes", "--skip-preview"]);
  const cp = checkpointOf(stack.backend);
  const downMs = await timed(["destroy", "--yes", "--skip-preview"]);
  return row("provider plugin (YAML, real CLI)", n, upMs, downMs, cp);
}

export async function frontEnds(lab: Lab): Promise<FrontEndRow[]> {
  const n = Number(process.env.BENCH_FRONT_ENDS_N ?? 50);
  const rows = [await viaHarness(lab, n, "typescript"), await viaHarness(lab, n, "plugin"), await viaYaml(lab, n)];
  console.log(`\nFront ends: ${n} GatedTunnels, up / destroy (s) and checkpoint bytes per resource:`);
  console.table(rows);
  writeFileSync(path.join(ROOT, "bench/front-ends-results.json"), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n");
  return rows;
}
