import { lstatSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../../provider/host/local-runner";
import { runChecked } from "../../../provider/host/runner";
import { hostScript } from "../../../provider/host/host-script";
import { writePrivateFiles } from "../../../provider/state/private-file";
import { stateDir } from "../../../provider/state/state-dir";
import * as path from "node:path";

/** write-files.sh through writePrivateFiles, on this machine's sh (dash here): several files, one command, each written as a file of its own would be. */
const runner = new LocalRunner();
const name = (dir: string, ext: string) => `${dir}/pst.unit.write-files.${process.pid}.${ext}`;
afterAll(async () => {
  const dir = await stateDir(runner);
  for (const ext of ["a", "b", "c", "target", "bad"]) rmSync(name(dir, ext), { force: true });
});

test("every file gets exactly its own bytes and mode; a symlink planted under a name is replaced, its target untouched", async () => {
  const dir = await stateDir(runner);
  writeFileSync(name(dir, "target"), "theirs\n");
  symlinkSync(name(dir, "target"), name(dir, "b"));
  const count = () => readdirSync(dir).length;
  const before = count();
  await writePrivateFiles(runner, [
    { path: name(dir, "a"), content: "first é\n" },
    { path: name(dir, "b"), content: "" },
    { path: name(dir, "c"), content: "#!/bin/sh\nexit 0\n", mode: "700" },
  ]);
  expect(readFileSync(name(dir, "a"), "utf8")).toBe("first é\n");
  expect(readFileSync(name(dir, "b"), "utf8")).toBe("");
  expect(lstatSync(name(dir, "b")).isSymbolicLink()).toBe(false);
  expect(readFileSync(name(dir, "target"), "utf8")).toBe("theirs\n");
  expect([lstatSync(name(dir, "a")).mode & 0o777, lstatSync(name(dir, "c")).mode & 0o777]).toEqual([0o600, 0o700]);
  expect(count()).toBe(before + 2); // a and c are new; b replaced the link; no temporary file left
});

test("input shorter than the sizes promise fails, naming the file, and leaves no temporary file", async () => {
  const dir = await stateDir(runner);
  const script = hostScript(path.resolve(__dirname, "../../../provider/state/write-files.sh"));
  const argv = ["sh", "-c", script, "sh", dir, name(dir, "bad"), "600", "10"];
  await expect(runChecked(runner, argv, { what: "write", input: "short" })).rejects.toThrow(/could not write .*write-files\.\d+\.bad/);
  expect(readdirSync(dir).filter((f) => f.startsWith(".new."))).toEqual([]);
  expect(() => lstatSync(name(dir, "bad"))).toThrow();
});
