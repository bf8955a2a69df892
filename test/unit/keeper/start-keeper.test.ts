import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { hostScript } from "../../../provider/host/host-script";
import { LocalRunner } from "../../../provider/host/local-runner";
import { WRITE_MANY } from "../../../provider/state/private-file";
import { waitFor } from "../../../provider/state/wait-for";

/**
 * start-keeper.sh on this machine's sh (dash here), with stand-ins: the files are written by the
 * real write-files.sh, the "keeper" is a script that leaves a mark, the "look" prints its arguments.
 */
const START = hostScript(path.resolve(__dirname, "../../../provider/keeper/start-keeper.sh"));
const runner = new LocalRunner();
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
function privateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-unit-start-keeper-"));
  made.push(dir);
  return dir;
}
const LOOK = 'printf "%s|" "$@"';

test("the files are written, the keeper started, then the look runs with its own arguments: one command", async () => {
  const dir = privateDir();
  const keeper = `${dir}/pst.k.keeper`;
  const content = `#!/bin/sh\ntouch "${dir}/started"\n`;
  const write = [dir, keeper, "700", String(content.length), `${dir}/pst.k.env`, "600", "4"];
  const r = await runner.run(["sh", "-c", START, "sh", WRITE_MANY, keeper, LOOK, String(write.length), ...write, "look one", "", "3"], {
    input: `${content}a=1\n`,
  });
  expect(r.exitCode).toBe(0);
  // The look got its arguments only, empty ones included, in order.
  expect(r.stdout).toBe("look one||3|");
  expect(readFileSync(`${dir}/pst.k.env`, "utf8")).toBe("a=1\n");
  await waitFor(async () => existsSync(`${dir}/started`) || undefined, 3000);
});

test("a file that cannot be written stops it before anything starts: exit 1, write-files.sh's message", async () => {
  const dir = privateDir();
  const keeper = `${dir}/pst.k.keeper`;
  const write = [dir, keeper, "700", "100"];
  const r = await runner.run(["sh", "-c", START, "sh", WRITE_MANY, keeper, LOOK, String(write.length), ...write, "look"], { input: "short" });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain(`could not write ${keeper}`);
  expect(r.stdout).toBe("");
  expect(existsSync(keeper)).toBe(false);
});
