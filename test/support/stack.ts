import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import type { RunResult } from "../../provider/host/runner";

type Command = "up" | "preview" | "refresh" | "destroy" | "outputs" | "export" | "import" | "cancel" | "rm";

export const ROOT = path.resolve(__dirname, "../../..");
const DRIVER = path.join(ROOT, "dist/scripts/pulumi-stack.js");

/**
 * A stack of the project at ROOT (the demo's Pulumi.yaml), driven by the real pulumi CLI through
 * scripts/pulumi-stack.ts, with its own file backend so tests never share state.
 */
export class TestStack {
  readonly backend = mkdtempSync(path.join(tmpdir(), "pst-state-"));
  private readonly runner = new LocalRunner();
  /** More environment for this stack's pulumi runs (a provider setting a test needs, e.g. the guard's forced polling). */
  readonly extraEnv: Record<string, string> = {};

  /** `netns`: run pulumi itself inside that namespace (local mode: pulumi on the tunnel host). */
  /** `dir`: the project (default: the repo root's demo stack). */
  constructor(
    readonly name: string,
    private readonly netns?: string,
    private readonly dir = ROOT,
  ) {}

  async run(command: Command, config: Record<string, string> = {}, secrets: Record<string, string> = {}, flags: string[] = []): Promise<RunResult> {
    return this.runner.run(this.commandLine(command, config, secrets, flags), { timeoutMs: 300_000 });
  }

  /** The whole argv of `run` (environment and namespace included), for tests that start it themselves. */
  commandLine(command: Command, config: Record<string, string> = {}, secrets: Record<string, string> = {}, flags: string[] = []): string[] {
    const args = [...this.argv(command), ...flags];
    for (const [k, v] of Object.entries(config)) args.push("--config", `${k}=${v}`);
    for (const [k, v] of Object.entries(secrets)) args.push("--secret", `${k}=${v}`);
    return this.wrap(args);
  }

  /** Replaces the stack's state (stack import), as a user repairing state by hand would. */
  async importState(state: unknown): Promise<void> {
    const r = await this.runner.run(this.wrap(this.argv("import")), { input: JSON.stringify(state), timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`stack import failed: ${r.stderr}`);
  }

  /** argv of the driver for `command` on this stack (for tests that start it themselves). */
  argv(command: Command): string[] {
    return [process.execPath, DRIVER, command, "--dir", this.dir, "--stack", this.name];
  }

  /** argv run with this stack's environment (via env(1), so concurrent stacks never share one), in its namespace. */
  private wrap(args: string[]): string[] {
    const withEnv = ["env", ...Object.entries(this.env()).map(([k, v]) => `${k}=${v}`), ...args];
    return this.netns ? ["ip", "netns", "exec", this.netns, ...withEnv] : withEnv;
  }

  /** The environment that points pulumi at this stack's own backend. */
  env(): Record<string, string> {
    return { PULUMI_BACKEND_URL: `file://${this.backend}`, PULUMI_HOME: path.join(this.backend, ".home"), ...this.extraEnv };
  }

  /**
   * Every file the backend keeps for this stack: the state itself and its `.bak` copy, and every
   * earlier checkpoint and update record the file backend keeps under backups/ and history/.
   */
  storedFiles(): string[] {
    return backendFiles(this.backend);
  }

  /** All of storedFiles() as text (what "plaintext in state" means). */
  storedState(): string {
    return this.storedFiles()
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
  }

  /**
   * The outputs the state holds for the one resource whose type ends with `typeSuffix` (":SharedTunnel"),
   * or undefined: refresh updates resources' state, not the stack's outputs.
   */
  async stateOutputs(typeSuffix: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.run("export");
    if (r.exitCode !== 0) throw new Error(`pulumi export (${this.name}) failed:\n${r.stderr.slice(-2000)}`);
    const state = JSON.parse(r.stdout) as { deployment: { resources?: { type: string; outputs?: Record<string, unknown> }[] } };
    return (state.deployment.resources ?? []).find((x) => x.type.endsWith(typeSuffix))?.outputs;
  }

  /** Runs a command that must succeed and returns its JSON stdout. */
  async ok(command: Exclude<Command, "rm">, config?: Record<string, string>): Promise<Record<string, unknown>> {
    return (await this.okWithLog(command, config)).outputs;
  }

  /** As ok(), also returning what pulumi printed while it ran (its progress display). */
  async okWithLog(command: Exclude<Command, "rm">, config?: Record<string, string>): Promise<{ outputs: Record<string, unknown>; log: string }> {
    const r = await this.run(command, config);
    if (r.exitCode !== 0) throw new Error(`pulumi ${command} (${this.name}) failed:\n${r.stderr.slice(-4000)}`);
    const last = r.stdout.trim().split("\n").pop() ?? "{}";
    return { outputs: last ? JSON.parse(last) : {}, log: r.stderr };
  }
}

/**
 * Runs `work` on `stack`, then destroy must succeed and `expectNothingLeft` must pass on what `work`
 * returned; the stack is destroyed again however a step failed, so a failing test leaves nothing behind.
 */
export async function destroyAfter<T>(
  stack: TestStack,
  work: (stack: TestStack) => Promise<T>,
  expectNothingLeft: (last: T) => Promise<void>,
): Promise<void> {
  try {
    const last = await work(stack);
    await stack.ok("destroy");
    await expectNothingLeft(last);
  } finally {
    await stack.run("destroy");
  }
}

/** Every file a file backend keeps: the stacks' state, their backups and history. */
export function backendFiles(backend: string): string[] {
  return ["stacks", "backups", "history"]
    .map((sub) => path.join(backend, ".pulumi", sub))
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name)),
    );
}
