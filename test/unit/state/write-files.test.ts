import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { LocalRunner } from "../../../provider/host/local-runner";
import { quoteArgv } from "../../../provider/host/quote";
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
  // No temporary file of ours is left (other processes may be writing in this shared directory now).
  const ours = readdirSync(dir).filter((f) => f.startsWith(".new.") && /first é|exit 0/.test(readIfThere(path.join(dir, f))));
  expect(ours).toEqual([]);
});

/** A private directory of this test's own (0700, as a state directory is), so other writers' temporary files are not counted. */
function privateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-unit-write-files-"));
  made.push(dir);
  return dir;
}
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A regular file's text (never a FIFO's: reading one would wait for a writer), or "" when it is gone. */
function readIfThere(file: string): string {
  try {
    return lstatSync(file).isFile() ? readFileSync(file, "utf8") : "";
  } catch {
    return "";
  }
}

test("input shorter than the sizes promise fails, naming the file, and leaves no temporary file", async () => {
  const dir = privateDir();
  const script = hostScript(path.resolve(__dirname, "../../../provider/state/write-files.sh"));
  const argv = ["sh", "-c", script, "sh", dir, name(dir, "bad"), "600", "10"];
  await expect(runChecked(runner, argv, { what: "write", input: "short" })).rejects.toThrow(/could not write .*write-files\.\d+\.bad/);
  expect(readdirSync(dir).filter((f) => f.startsWith(".new."))).toEqual([]);
  expect(() => lstatSync(name(dir, "bad"))).toThrow();
});

test("temporary files left under this shell's names (a FIFO, a symlink) are removed first, never written into", async () => {
  const dir = privateDir();
  writeFileSync(name(dir, "target"), "theirs\n");
  const file = path.resolve(__dirname, "../../../provider/state/write-files.sh");
  // Planted by the very shell that then runs the script (sourced, so $$ is the same): only a killed
  // earlier shell with this pid could have left them, but a FIFO opened for writing would hang it.
  const plant = `mkfifo "$1/.new.$$.1" && ln -s ${quoteArgv([name(dir, "target")])} "$1/.new.$$.2" && . ${quoteArgv([file])}`;
  const argv = ["sh", "-c", plant, "sh", dir, name(dir, "a"), "600", "3", name(dir, "b"), "600", "4"];
  await runChecked(runner, argv, { what: "write", input: "onetwo!", timeoutMs: 10_000 });
  expect([readFileSync(name(dir, "a"), "utf8"), readFileSync(name(dir, "b"), "utf8")]).toEqual(["one", "two!"]);
  expect(readFileSync(name(dir, "target"), "utf8")).toBe("theirs\n");
  expect(readdirSync(dir).filter((f) => f.startsWith(".new."))).toEqual([]);
});

describe("a sweep entry removes every file named by its prefix, in its place in the order", () => {
  const script = hostScript(path.resolve(__dirname, "../../../provider/state/write-files.sh"));
  const run = (dir: string, ...entries: string[][]) =>
    runChecked(runner, ["sh", "-c", script, "sh", dir, ...entries.flat()], { what: "write", input: "new\n" });

  test("files under the prefix go, a symlink among them is removed not followed, others stay, and a file written after it is kept", async () => {
    const dir = privateDir();
    const outside = privateDir();
    writeFileSync(`${dir}/pst.o.s.r.1.key`, "old");
    writeFileSync(`${dir}/pst.o.s.r.2.log`, "old");
    writeFileSync(`${outside}/theirs`, "theirs");
    symlinkSync(`${outside}/theirs`, `${dir}/pst.o.s.r.3.link`);
    writeFileSync(`${dir}/pst.o.s.other.1.key`, "kept");
    await run(dir, [`${dir}/pst.o.s.r.`, "sweep", "0"], [`${dir}/pst.o.s.r.9.key`, "600", "4"]);
    expect(readdirSync(dir).sort()).toEqual(["pst.o.s.other.1.key", "pst.o.s.r.9.key"]);
    expect(readFileSync(`${outside}/theirs`, "utf8")).toBe("theirs");
    expect(readFileSync(`${dir}/pst.o.s.r.9.key`, "utf8")).toBe("new\n");
  });

  test("a prefix that could widen the glob, or is not directly in the directory, fails and removes nothing", async () => {
    const dir = privateDir();
    writeFileSync(`${dir}/pst.o.s.r.1.key`, "old");
    for (const bad of [`${dir}/pst.*`, `${dir}/pst.o.s.[r]`, `${dir}/`, `${dir}/../pst.`, `${dir}/sub/pst.`])
      await expect(run(dir, [bad, "sweep", "0"])).rejects.toThrow(/could not write/);
    expect(readdirSync(dir)).toEqual(["pst.o.s.r.1.key"]);
  });
});
