import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/*
 * Our Go programs (the SDK generator, the Go quick start with the generated SDK, the Go SDK's lab
 * driver) build with the module versions the project's Pulumi CLI is built from: every module
 * compiled into them is at the version the CLI's build list has (scripts/pin-go-to-cli.sh keeps it
 * so), and github.com/pulumi/pulumi/sdk/v3 is the CLI's own version.
 */
const ROOT = path.resolve(__dirname, "../../../..");
const version = /PULUMI_VERSION=(\S+)/.exec(readFileSync(path.join(ROOT, "scripts/env.sh"), "utf8"))![1];
const cache = process.env.PST_CACHE ?? "/var/cache/pulumi-shared-tunnel";
const wrapper = path.join(cache, `pulumi-${version}`, "wrapper");

const go = (dir: string, args: string[]) =>
  execFileSync("go", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=readonly" } })
    .split("\n")
    .filter(Boolean);

jest.setTimeout(120_000);

test.each(["scripts/gen-sdk", "examples/go", "test/support/sdk/go"])("%s builds with the CLI's module versions", (dir) => {
  if (!existsSync(path.join(wrapper, "go.mod"))) throw new Error(`no CLI build module at ${wrapper}: run npm run setup`);
  const cli = new Map(go(wrapper, ["list", "-m", "-f", "{{.Path}} {{.Version}}", "all"]).map((l) => l.split(" ") as [string, string]));
  // The modules whose packages are compiled in, not every module of the graph.
  const built = go(path.join(ROOT, dir), ["list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}", "./..."]);
  const differing = [...new Set(built)].map((l) => l.split(" ")).filter(([m, v]) => cli.has(m) && cli.get(m) !== v);
  expect(differing).toEqual([]);
  expect(built).toContain(`github.com/pulumi/pulumi/sdk/v3 ${version}`);
});
