import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import type { RunResult } from "../../provider/host/runner";
import { fetchFrom, readLab, type Lab } from "../support/lab";
import { ROOT } from "../support/stack";
import { exStackName, expectNothingLeft, stackTagPrefix } from "./support";

/**
 * examples/ci-ephemeral as its workflow runs it: `run.sh up` and `run.sh test` in one checkout,
 * then that checkout is deleted and `run.sh destroy` runs from a second checkout at another path,
 * with only the backend URL and the passphrase in common. That proves the state holds nothing
 * that points into the first checkout (the serialized providers load "pulumi-shared-tunnel/runtime"
 * by module name, resolved from wherever the program runs).
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const PORT = 8164;
const stackName = exStackName("ci");
const prefix = stackTagPrefix("ci-ephemeral-example", stackName);
const work = mkdtempSync(path.join(tmpdir(), "ex-ci-"));
const backend = path.join(work, "state");
const [first, second] = [path.join(work, "checkout-a"), path.join(work, "other-dir")];

/** A fresh checkout of the working tree (what git would check out), linked to our deps and built. */
async function checkout(dir: string): Promise<void> {
  const files = await local.run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard"]);
  mkdirSync(dir, { recursive: true });
  const list = files.stdout.split("\n").filter((f) => f && existsSync(path.join(ROOT, f)));
  const tar = await local.run(["tar", "-C", ROOT, "-cf", path.join(dir, ".files.tar"), "--", ...list], { timeoutMs: 60_000 });
  expect(tar.stderr).toBe("");
  await local.run(["tar", "-C", dir, "-xf", path.join(dir, ".files.tar")]);
  rmSync(path.join(dir, ".files.tar"));
  // npm ci would install the same packages: link each one, except our own package, which (as
  // scripts/setup.sh does) points at this checkout so "pulumi-shared-tunnel/runtime" resolves here.
  mkdirSync(path.join(dir, "node_modules"));
  for (const entry of readdirSync(path.join(ROOT, "node_modules"))) {
    if (entry !== "pulumi-shared-tunnel") symlinkSync(path.join(ROOT, "node_modules", entry), path.join(dir, "node_modules", entry));
  }
  symlinkSync("..", path.join(dir, "node_modules", "pulumi-shared-tunnel"));
  // tsc may report other people's in-progress type errors; it still emits, so check the output.
  await local.run([path.join(dir, "node_modules/.bin/tsc"), "-p", dir], { timeoutMs: 180_000 });
  // The rest of `npm run build`: the programs the provider sends to tunnel hosts, beside its modules.
  await local.run(["bash", path.join(dir, "scripts/copy-host-programs.sh")]);
  expect(existsSync(path.join(dir, "dist/provider/host/session.sh"))).toBe(true);
  expect(existsSync(path.join(dir, "dist/scripts/pulumi-stack.js"))).toBe(true);
  expect(existsSync(path.join(dir, "dist/examples/ci-ephemeral/index.js"))).toBe(true);
}

/** `run.sh <cmd>` in checkout `dir`, with the environment a pipeline job would give it. */
function runSh(dir: string, cmd: string, extra: Record<string, string> = {}): Promise<RunResult> {
  const env: Record<string, string> = {
    CI_STACK: stackName,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "ci-example-passphrase",
    PULUMI_HOME: path.join(dir, ".pulumi/home"),
    TUNNEL_HOST: lab.thSshAddr,
    TUNNEL_HOST_USER: lab.thUser,
    TUNNEL_HOST_KEY_PATH: lab.thKey,
    TUNNEL_HOST_KEY: lab.thHostKey,
    GATEWAY_HOST: lab.gwAddr,
    GATEWAY_USER: lab.gwUser,
    GATEWAY_KEY_PATH: lab.gwKey,
    GATEWAY_HOST_KEY: lab.gwHostKey,
    BIND_ADDRESS: lab.thTrusted,
    BIND_PORT: String(PORT),
    TARGET_HOST: lab.targetHost,
    TARGET_PORT: String(lab.targetPort),
    SOURCES: JSON.stringify([lab.trustedCidr]),
    EXPIRES_AFTER: "2h",
    // In the lab the trusted side is the trusted client's namespace; a CI runner would be on it.
    TRUSTED_EXEC: `ip netns exec ${lab.nsTc}`,
    EXPECT_BODY: "internal service reached",
    ...extra,
  };
  const argv = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", path.join(dir, "examples/ci-ephemeral/run.sh"), cmd];
  return local.run(argv, { timeoutMs: 300_000 });
}

function stateFiles(): string[] {
  const dir = path.join(backend, ".pulumi", "stacks");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => path.join(e.parentPath, e.name));
}

let url = "";

afterAll(async () => {
  // If a step failed before destroy, clean up from whichever checkout still exists.
  for (const dir of [second, first]) if (existsSync(path.join(dir, "dist"))) await runSh(dir, "destroy");
  rmSync(work, { recursive: true, force: true });
});

test("two checkouts at different paths build", async () => {
  await checkout(first);
  await checkout(second);
});

test("job 1, checkout A: run.sh up, then run.sh test reaches the service from the trusted side", async () => {
  const up = await runSh(first, "up");
  expect(up.stderr.slice(-3000)).not.toMatch(/error:/i);
  expect(up.exitCode).toBe(0);
  url = String(JSON.parse(up.stdout.trim().split("\n").pop() ?? "{}").url);
  expect(url).toBe(`http://${lab.thTrusted}:${PORT}/`);
  // EXPIRES_AFTER reached the resources: the host's deadline is about two hours away.
  const expiresAt = Date.parse(String(JSON.parse(up.stdout.trim().split("\n").pop() ?? "{}").expiresAt));
  expect(Math.abs(expiresAt - Date.now() - 2 * 3600_000)).toBeLessThan(10 * 60_000);
  const t = await runSh(first, "test");
  expect(t.exitCode).toBe(0);
  expect(t.stdout).toContain("internal service reached");
  expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
});

test("run.sh test fails from the untrusted side (the test step can fail a pipeline)", async () => {
  const t = await runSh(first, "test", { TRUSTED_EXEC: `ip netns exec ${lab.nsUc}` });
  expect(t.exitCode).not.toBe(0);
});

test("the state names nothing inside checkout A", () => {
  const files = stateFiles();
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(readFileSync(f, "utf8")).not.toContain(first);
});

test("job 2, checkout B (A deleted, no stack settings file): run.sh destroy leaves nothing", async () => {
  rmSync(first, { recursive: true, force: true });
  expect(existsSync(path.join(second, `examples/ci-ephemeral/Pulumi.${stackName}.yaml`))).toBe(false);
  // destroy needs no config: only the state (the tunnel host's key path in it is outside any checkout).
  const d = await runSh(second, "destroy", { TUNNEL_HOST: "", GATEWAY_HOST: "", SOURCES: "" });
  expect(d.stderr.slice(-3000)).not.toMatch(/error:/i);
  expect(d.exitCode).toBe(0);
  await expectNothingLeft(lab, prefix, [url]);
  expect(stateFiles()).toEqual([]);
});

test("run.sh refuses a backend inside the checkout (the destroy job could not find it)", async () => {
  const r = await runSh(second, "up", { PULUMI_BACKEND_URL: `file://${second}/.pulumi/backend` });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/inside this checkout/);
});
