import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import type { RunResult } from "../../provider/host/runner";
import { backendFiles, ROOT } from "./stack";

/**
 * A YAML stack run by the real `pulumi` CLI (no Automation API): its own PULUMI_HOME, with the
 * plugin installed from its tarball the way a user installs it, and PULUMI_IGNORE_AMBIENT_PLUGINS
 * so no plugin on PATH stands in for the installed one. Its own file backend and project copy.
 */
export class YamlStack {
  readonly home = mkdtempSync(path.join(tmpdir(), "pst-yaml-home-"));
  readonly backend = mkdtempSync(path.join(tmpdir(), "pst-yaml-state-"));
  readonly dir = mkdtempSync(path.join(tmpdir(), "pst-yaml-project-"));
  protected readonly runner = new LocalRunner();

  constructor(
    readonly name: string,
    project = path.join(ROOT, "examples/yaml"),
  ) {
    cpSync(path.join(project, "Pulumi.yaml"), path.join(this.dir, "Pulumi.yaml"));
    mkdirSync(path.join(this.backend, ".pulumi"), { recursive: true });
  }

  /** Packs the plugin (scripts/pack-plugin.sh) and installs it with `pulumi plugin install ... --file`. */
  async installPlugin(): Promise<void> {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    await this.ok(["plugin", "install", "resource", "shared-tunnel", version, "--file", await packPlugin(this.runner)]);
  }

  async init(config: Record<string, string>): Promise<void> {
    await this.ok(["stack", "init", this.name]);
    for (const [k, v] of Object.entries(config)) await this.ok(["config", "set", k, v]);
  }

  /** `pulumi <args>` in the project, with this stack's home, backend and passphrase. */
  pulumi(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    // Every command but plugin install and stack init acts on this stack.
    const scoped = args[0] !== "plugin" && args.slice(0, 2).join(" ") !== "stack init";
    return this.inProject(["pulumi", ...args, ...(scoped ? ["--stack", this.name] : []), "--non-interactive"], timeoutMs);
  }

  /** `argv` in the project directory, with this stack's home, backend and passphrase. */
  protected inProject(argv: string[], timeoutMs: number): Promise<RunResult> {
    const env = {
      PULUMI_HOME: this.home,
      PULUMI_BACKEND_URL: `file://${this.backend}`,
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_CONFIG_PASSPHRASE: "yaml-test-passphrase",
    };
    const withEnv = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
    return this.runner.run(["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", this.dir, ...withEnv], { timeoutMs });
  }

  /**
   * The backend's files (state, backups, history) holding any of the keys in `keyFiles`: each
   * 40-character slice of a key's body lines is looked for, so a key stored whole, split or
   * re-wrapped is found.
   */
  filesHoldingKeys(keyFiles: string[]): string[] {
    const slices = keyFiles.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l.length >= 40 && !l.startsWith("-----"))
        .map((l) => l.slice(0, 40)),
    );
    if (slices.length <= 2) throw new Error(`too little of the keys to look for: ${keyFiles.join(", ")}`);
    return backendFiles(this.backend).filter((f) => slices.some((s) => readFileSync(f, "utf8").includes(s)));
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.pulumi(args);
    if (r.exitCode !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.exitCode}): ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
}

let packed: Promise<string> | undefined;

/** The plugin's tarball, packed once per test file: every stack of a file installs the same build. */
function packPlugin(runner: LocalRunner): Promise<string> {
  packed ??= (async () => {
    const tarball = path.join(mkdtempSync(path.join(tmpdir(), "pst-plugin-")), "plugin.tgz");
    const r = await runner.run(["bash", path.join(ROOT, "scripts/pack-plugin.sh"), tarball], { timeoutMs: 180_000 });
    if (r.exitCode !== 0) throw new Error(`pack-plugin failed: ${r.stderr}`);
    return tarball;
  })();
  return packed;
}
