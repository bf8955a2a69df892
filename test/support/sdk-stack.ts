import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { RunResult } from "../../provider/host/runner";
import { ROOT } from "./stack";
import { YamlStack } from "./yaml-stack";

export type SdkLanguage = "python" | "go";

type Operation = "up" | "preview" | "refresh" | "destroy";

/**
 * examples/<language>'s program through its generated SDK (sdk/<language>), run in a process of
 * that language by Pulumi's inline Automation API (test/support/sdk/): neither language host can be
 * built here, and the inline API needs none. Everything else is YamlStack's: the plugin installed
 * from its tarball into a PULUMI_HOME of the stack's own, the real CLI, a file backend, the stack
 * made and configured with `pulumi stack init` and `config set` in a copy of the example's project.
 */
export class SdkStack extends YamlStack {
  /** The project's name, from its Pulumi.yaml (the stack's config keys are under it). */
  readonly project: string;
  private driver: string[] = [];

  constructor(
    name: string,
    readonly language: SdkLanguage,
  ) {
    const example = path.join(ROOT, "examples", language);
    super(name, example);
    this.project = /^name: (\S+)$/m.exec(readFileSync(path.join(example, "Pulumi.yaml"), "utf8"))![1];
  }

  /**
   * Finds (or makes, the first time: setup normally has) the Python environment with the SDK
   * installed or the compiled Go driver, then installs the plugin.
   */
  override async installPlugin(): Promise<void> {
    const made =
      this.language === "python"
        ? await this.runner.run(["bash", path.join(ROOT, "scripts/setup-python.sh")], { timeoutMs: 600_000 })
        : await this.runner.run(["bash", path.join(ROOT, "scripts/build-go.sh"), ...GO_DRIVER], { timeoutMs: 600_000 });
    if (made.exitCode !== 0) throw new Error(`preparing the ${this.language} driver failed: ${made.stderr}`);
    const bin = made.stdout.trim().split("\n").pop()!;
    this.driver =
      this.language === "python"
        ? [bin, "-I", path.join(ROOT, "test/support/sdk/inline_stack.py"), path.join(ROOT, "examples/python/__main__.py")]
        : [bin];
    await super.installPlugin();
  }

  /** One operation by the inline program; a preview fails when it finds a change. */
  inline(op: Operation, timeoutMs = 300_000): Promise<RunResult> {
    return this.inProject([...this.driver, this.project, this.name, op], timeoutMs);
  }
}

/** scripts/build-go.sh's arguments for the Go driver, as setup.sh builds it: its module and every tree it builds from. */
const GO_DRIVER = ["sdk-inline-go", "test/support/sdk/go", ".", "examples/go", "sdk/go"];
