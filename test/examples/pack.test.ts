import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { readLab, type Lab } from "../support/lab";
import { ROOT } from "../support/stack";
import { exampleConfig, exStackName, expectGated, expectNothingLeft, stackTagPrefix } from "./support";

/**
 * The package as a user gets it: `npm pack` (of the built tree), installed by path into a project
 * outside the repo together with @pulumi/pulumi, used from there by require, by types, and by a
 * real stack in that folder (which must not touch the repo's own node_modules).
 */
jest.setTimeout(300_000);

const local = new LocalRunner();
const work = mkdtempSync(path.join(tmpdir(), "ex-pack-"));
const app = path.join(work, "app");
const pulumiVersion = JSON.parse(readFileSync(path.join(ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version as string;
let tarball = "";
let files: string[] = [];

async function ok(argv: string[], timeoutMs = 180_000): Promise<string> {
  const r = await local.run(argv, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}):\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("npm pack makes a tarball of the provider's build, its types and the README, and no tests", async () => {
  const out = JSON.parse(await ok(["npm", "pack", ROOT, "--pack-destination", work, "--json"]));
  tarball = path.join(work, out[0].filename);
  files = (out[0].files as { path: string }[]).map((f) => f.path);
  expect(existsSync(tarball)).toBe(true);
  expect(files).toEqual(
    expect.arrayContaining([
      "package.json",
      "README.md",
      "dist/provider/index.js",
      "dist/provider/index.d.ts",
      "dist/provider/runtime.js",
      "dist/provider/runtime.d.ts",
    ]),
  );
  const outside = files.filter((f) => !f.startsWith("dist/provider/") && !["package.json", "README.md", "LICENSE"].includes(f));
  expect(outside).toEqual([]);
  expect(files.filter((f) => /(^|\/)test\/|\.test\.|\.map$|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
});

test("installed by path into a project outside the repo, with @pulumi/pulumi", async () => {
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "ex-pack-app", version: "0.0.0", private: true }));
  // The registry is reachable here; --prefer-offline takes what `npm ci` already cached.
  await ok(["npm", "install", "--prefix", app, "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${pulumiVersion}`]);
  const probe = [
    "const m = require('pulumi-shared-tunnel'); const r = require('pulumi-shared-tunnel/runtime');",
    "console.log(JSON.stringify({ exports: ['SharedTunnel', 'FirewallAllow', 'GatedTunnel'].map((k) => typeof m[k]),",
    "  runtime: Object.keys(r).sort(), from: require.resolve('pulumi-shared-tunnel') }));",
  ].join("\n");
  // A file in the app, so require resolves from there as the user's program would.
  writeFileSync(path.join(app, "probe.js"), probe);
  const seen = JSON.parse(await ok(["node", path.join(app, "probe.js")]));
  expect(seen.exports).toEqual(["function", "function", "function"]);
  expect(seen.runtime).toEqual(expect.arrayContaining(["firewall", "tunnel"]));
  expect(seen.from).toBe(path.join(app, "node_modules/pulumi-shared-tunnel/dist/provider/index.js"));
});

test("the types are there: a TypeScript stack compiles against the installed package", async () => {
  writeFileSync(
    path.join(app, "check.ts"),
    [
      'import { GatedTunnel, type GatedTunnelArgs, type Connection } from "pulumi-shared-tunnel";',
      'const connection: Connection = { host: "198.18.0.2", user: "root", hostKey: "ssh-ed25519 AAAA" };',
      'const args: GatedTunnelArgs = { connection, gateway: { host: "gw", user: "u", hostKey: "k" }, bindAddress: "198.51.100.40", bindPort: 8080, targetHost: "127.0.0.1", targetPort: 8000, sources: ["198.51.100.0/24"] };',
      'export const make = () => new GatedTunnel("svc", args);',
      "// @ts-expect-error: bindPort is a number; the types must say so",
      'export const bad: GatedTunnelArgs = { ...args, bindPort: "8080" };',
      "",
    ].join("\n"),
  );
  writeFileSync(
    path.join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { module: "node16", moduleResolution: "node16", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ["check.ts"],
    }),
  );
  await ok([path.join(ROOT, "node_modules/.bin/tsc"), "-p", app]);
});

describe("a stack in that folder, in the lab", () => {
  const lab: Lab = readLab();
  const stack = exStackName("pack");
  const prefix = stackTagPrefix("ex-pack-app", stack);
  // The app's own copy of the driver, so the Automation API and the program share the app's @pulumi/pulumi.
  const driver = (cmd: string, config: Record<string, string> = {}) =>
    local.run(
      [
        "env",
        `PULUMI_BACKEND_URL=file://${work}/state`,
        `PULUMI_HOME=${work}/home`,
        "node",
        path.join(app, "pulumi-stack.js"),
        cmd,
        "--dir",
        app,
        "--stack",
        stack,
        ...Object.entries(config).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
      ],
      { timeoutMs: 240_000 },
    );
  let url = "";

  afterAll(() => driver("destroy"));

  test("up from the app folder gates the service; destroy leaves nothing", async () => {
    mkdirSync(path.join(work, "state"));
    copyFileSync(path.join(ROOT, "dist/scripts/pulumi-stack.js"), path.join(app, "pulumi-stack.js"));
    writeFileSync(path.join(app, "Pulumi.yaml"), "name: ex-pack-app\nruntime: nodejs\nmain: index.js\n");
    writeFileSync(
      path.join(app, "index.js"),
      [
        'const pulumi = require("@pulumi/pulumi");',
        'const { GatedTunnel } = require("pulumi-shared-tunnel");',
        "module.exports = async () => {",
        "  const c = new pulumi.Config();",
        '  const t = new GatedTunnel("svc", {',
        '    connection: { host: c.require("tunnelHost"), user: c.require("tunnelHostUser"), privateKeyPath: c.require("tunnelHostKeyPath"), hostKey: c.require("tunnelHostKey") },',
        '    gateway: { host: c.require("gatewayHost"), user: c.require("gatewayUser"), privateKeyPath: c.require("gatewayKeyPath"), hostKey: c.require("gatewayHostKey") },',
        '    bindAddress: c.require("bindAddress"), bindPort: c.requireNumber("bindPort"),',
        '    targetHost: c.require("targetHost"), targetPort: c.requireNumber("targetPort"), sources: c.requireObject("sources"),',
        "  });",
        "  return { url: t.url };",
        "};",
        "",
      ].join("\n"),
    );
    const up = await driver("up", exampleConfig(lab, 8165, true));
    if (up.exitCode !== 0) throw new Error(`up failed:\n${up.stderr.slice(-3000)}`);
    url = String(JSON.parse(up.stdout.trim().split("\n").pop() ?? "{}").url);
    await expectGated(lab, url);
    const down = await driver("destroy");
    if (down.exitCode !== 0) throw new Error(`destroy failed:\n${down.stderr.slice(-3000)}`);
    await expectNothingLeft(lab, prefix, [url]);
  });
});
