/**
 * The one caller of the Pulumi CLI in this repo (the demo, the tests and the benchmark all go
 * through it). It drives the real `pulumi` binary with the Automation API:
 *
 *   node dist/scripts/pulumi-stack.js <up|preview|refresh|destroy|outputs|export|import|cancel|rm> --dir DIR --stack NAME
 *        [--config key=value]... [--secret key=value]... [--expect-no-changes] [--clear-pending-creates] [--parallel N] [--encrypted]
 *
 * DIR holds the project's Pulumi.yaml; its `main` module is loaded and run in this process as an
 * inline program (the module exports the program function). Why inline: the CLI then talks to this
 * process's language runtime (`--client`), so no pulumi-language-nodejs binary is needed; the Go
 * module proxy here does not serve that module. With a normal Pulumi install, `pulumi up` in DIR
 * runs the same program.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import * as path from "node:path";
import { LocalWorkspace, type ConfigMap, type Deployment, type Stack } from "@pulumi/pulumi/automation";

interface Options {
  command: string;
  dir: string;
  stack: string;
  config: ConfigMap;
  expectNoChanges: boolean;
  clearPendingCreates: boolean;
  /** pulumi's --parallel (its default is 4 per CPU). */
  parallel?: number;
  /** export: what `pulumi stack export` prints (secrets as ciphertext), not the Automation API's decrypted copy. */
  encrypted: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    command: argv[0],
    dir: process.cwd(),
    stack: "dev",
    config: {},
    expectNoChanges: false,
    clearPendingCreates: false,
    encrypted: false,
  };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--dir") opts.dir = path.resolve(value());
    else if (flag === "--stack") opts.stack = value();
    else if (flag === "--expect-no-changes") opts.expectNoChanges = true;
    else if (flag === "--clear-pending-creates") opts.clearPendingCreates = true;
    else if (flag === "--encrypted") opts.encrypted = true;
    else if (flag === "--parallel") opts.parallel = Number(value()) || fail("--parallel takes a positive number");
    else if (flag === "--config" || flag === "--secret") {
      const kv = value();
      const eq = kv.indexOf("=");
      if (eq < 1) fail(`${flag} takes key=value`);
      opts.config[kv.slice(0, eq)] = { value: kv.slice(eq + 1), secret: flag === "--secret" };
    } else fail(`unknown option ${flag}`);
  }
  if (!["up", "preview", "refresh", "destroy", "outputs", "export", "import", "cancel", "rm"].includes(opts.command))
    fail(`unknown command ${opts.command}`);
  return opts;
}

function fail(message: string): never {
  process.stderr.write(`pulumi-stack: ${message}\n`);
  process.exit(2);
}

/** Loads the program the project's Pulumi.yaml names (`main:`, default index.js). */
function loadProgram(dir: string): () => Promise<Record<string, unknown> | void> {
  const yaml = readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
  const main = /^main:\s*(\S+)\s*$/m.exec(yaml)?.[1] ?? "index.js";
  // The program is CommonJS that tsc wrote, at a path known only now; it runs in this process,
  // as pulumi's own Node host would load it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require(path.resolve(dir, main));
  const program: unknown = typeof mod === "function" ? mod : (mod as { default?: unknown }).default;
  if (typeof program !== "function") fail(`${main} must export the program function`);
  return program as () => Promise<Record<string, unknown> | void>;
}

async function run(opts: Options): Promise<void> {
  const projectName = /^name:\s*(\S+)/m.exec(readFileSync(path.join(opts.dir, "Pulumi.yaml"), "utf8"))?.[1] ?? fail("Pulumi.yaml has no name");
  const stack: Stack = await LocalWorkspace.createOrSelectStack(
    { stackName: opts.stack, projectName, program: loadProgram(opts.dir) },
    { workDir: opts.dir },
  );
  if (Object.keys(opts.config).length) await stack.setAllConfig(opts.config);
  const onOutput = (s: string) => process.stderr.write(s);
  switch (opts.command) {
    case "up": {
      const r = await stack.up({ onOutput, color: "never", parallel: opts.parallel });
      printOutputs(r.outputs);
      break;
    }
    case "preview": {
      const r = await stack.preview({ onOutput, color: "never", diff: true, expectNoChanges: opts.expectNoChanges });
      process.stdout.write(JSON.stringify(r.changeSummary) + "\n");
      break;
    }
    case "refresh": {
      const r = await stack.refresh({ onOutput, color: "never", clearPendingCreates: opts.clearPendingCreates });
      process.stdout.write(JSON.stringify(r.summary.resourceChanges ?? {}) + "\n");
      break;
    }
    case "destroy":
      await stack.destroy({ onOutput, color: "never", parallel: opts.parallel });
      break;
    case "outputs":
      printOutputs(await stack.outputs());
      break;
    case "cancel":
      // Releases the lock a killed run left on the stack (what `pulumi cancel` does).
      await stack.cancel();
      break;
    case "import": {
      // The repair a user makes by hand: `pulumi stack export > f; edit f; pulumi stack import < f`.
      const text = await new Promise<string>((resolve) => {
        let data = "";
        process.stdin.on("data", (d: Buffer) => (data += d.toString())).on("end", () => resolve(data));
      });
      await stack.importStack(JSON.parse(text) as Deployment);
      break;
    }
    case "export":
      // The Automation API's exportStack runs `stack export --show-secrets`; a user's plain export does not.
      if (opts.encrypted) process.stdout.write(await plainExport(stack, opts));
      else process.stdout.write(JSON.stringify(await stack.exportStack()) + "\n");
      break;
    case "rm":
      await stack.workspace.removeStack(opts.stack);
      break;
  }
}

/** `pulumi stack export` exactly as a user runs it, with the CLI the workspace uses. */
async function plainExport(stack: Stack, opts: Options): Promise<string> {
  const cli = (stack.workspace as LocalWorkspace).pulumiCommand.command;
  const { stdout } = await promisify(execFile)(cli, ["stack", "export", "--stack", opts.stack], { cwd: opts.dir, maxBuffer: 64 << 20 });
  return stdout;
}

function printOutputs(outputs: Record<string, { value: unknown; secret: boolean }>): void {
  const plain = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
  process.stdout.write(JSON.stringify(plain) + "\n");
}

run(parseArgs(process.argv.slice(2))).catch((err: Error) => {
  process.stderr.write(`\npulumi-stack: ${err.message}\n`);
  process.exit(1);
});
