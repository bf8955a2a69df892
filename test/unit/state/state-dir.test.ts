import {
  constants,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  closeSync,
} from "node:fs";
import { LocalRunner } from "../../../provider/host/local-runner";
import { writePrivateFile } from "../../../provider/state/private-file";
import { judgeStateDir, LEGACY_STATE_DIR, ROOT_STATE_DIR, StateDirError, stateDir, stateDirs } from "../../../provider/state/state-dir";
import type { Runner } from "../../../provider/host/runner";

const home = "/home/ann/.local/state/pulumi-shared-tunnel";
const output = (first: string, legacy = `0 root 700 directory|${LEGACY_STATE_DIR}`) =>
  [
    "1000",
    first,
    "1000 ann 700 directory|/home/ann/.local/state",
    "1000 ann 700 directory|/home/ann/.local",
    "1000 ann 755 directory|/home/ann",
    "0 root 755 directory|/home",
    "0 root 755 directory|/",
    legacy,
  ].join("\n");

describe("judgeStateDir", () => {
  test("a real directory of the user's, mode 0700, below safe parents, is used; the legacy one is searched", () => {
    expect(judgeStateDir(output(`1000 ann 700 directory|${home}`))).toEqual({ dir: home, legacyOurs: false, searched: [home, LEGACY_STATE_DIR] });
  });
  test("the legacy directory is cleaned only when it is the user's own, 0700", () => {
    expect(judgeStateDir(output(`1000 ann 700 directory|${home}`, `1000 ann 700 directory|${LEGACY_STATE_DIR}`))).toMatchObject({ legacyOurs: true });
    expect(judgeStateDir(output(`1000 ann 700 directory|${home}`, `1000 ann 777 directory|${LEGACY_STATE_DIR}`))).toMatchObject({
      legacyOurs: false,
    });
    expect(judgeStateDir(output(`1000 ann 700 directory|${home}`, `- - - missing|${LEGACY_STATE_DIR}`))).toMatchObject({ legacyOurs: false });
  });
  test("the legacy directory is searched only when root or the user owns it and no one else can write to it", () => {
    const searched = (legacy: string) => (judgeStateDir(output(`1000 ann 700 directory|${home}`, legacy)) as { searched: string[] }).searched;
    expect(searched(`0 root 755 directory|${LEGACY_STATE_DIR}`)).toEqual([home, LEGACY_STATE_DIR]);
    expect(searched(`1000 ann 700 directory|${LEGACY_STATE_DIR}`)).toEqual([home, LEGACY_STATE_DIR]);
    // Anyone may make /tmp/pulumi-shared-tunnel where it is gone, and name it in their processes' argv.
    expect(searched(`1001 mal 700 directory|${LEGACY_STATE_DIR}`)).toEqual([home]);
    expect(searched(`0 root 1777 directory|${LEGACY_STATE_DIR}`)).toEqual([home]);
    expect(searched(`1000 ann 770 directory|${LEGACY_STATE_DIR}`)).toEqual([home]);
    expect(searched(`1000 ann 777 symbolic link|${LEGACY_STATE_DIR}`)).toEqual([home]);
    expect(searched(`- - - missing|${LEGACY_STATE_DIR}`)).toEqual([home]);
  });
  test.each([
    [`1001 mal 700 directory|${home}`, /owned by mal \(uid 1001\) with mode 0700; it must be a real directory \(not a symlink\) owned by uid 1000/],
    [`1000 ann 755 directory|${home}`, /mode 0755/],
    [`1000 ann 777 symbolic link|${home}`, /is a symbolic link owned by ann/],
    [`- - - missing|${home}`, /is missing/],
  ])("%s is refused", (line, reason) => {
    expect(judgeStateDir(output(line))).toMatch(reason);
  });
  test("a parent another user can write to is refused; a sticky one (/tmp) is not", () => {
    const other = output(`1000 ann 700 directory|${home}`).replace("1000 ann 755 directory|/home/ann", "1001 mal 755 directory|/home/ann");
    expect(judgeStateDir(other)).toMatch(/\/home\/ann is a directory owned by mal .* a parent of the state directory/);
    const writable = output(`1000 ann 700 directory|${home}`).replace("0 root 755 directory|/home", "0 root 777 directory|/home");
    expect(judgeStateDir(writable)).toMatch(/\/home is a directory owned by root \(uid 0\) with mode 0777/);
    const sticky = output(`1000 ann 700 directory|${home}`).replace("0 root 755 directory|/home", "0 root 1777 directory|/home");
    expect(judgeStateDir(sticky)).toMatchObject({ dir: home });
  });
  test("a path ssh's option parser would read differently is refused", () => {
    const spaced = output("1000 ann 700 directory|/home/a b/.local/state/pulumi-shared-tunnel");
    expect(judgeStateDir(spaced)).toMatch(/the state directory must not contain whitespace, quotes/);
  });
});

const local = new LocalRunner();

test("as root the state directory is /run/pulumi-shared-tunnel, made 0700", async () => {
  expect(await stateDir(local)).toBe(ROOT_STATE_DIR);
  const st = lstatSync(ROOT_STATE_DIR);
  expect([st.isDirectory(), st.uid, st.mode & 0o7777]).toEqual([true, 0, 0o700]);
});

test("a directory that is not the user's is refused with its path, owner, mode and the fix", async () => {
  // A runner whose commands see the state directory as a user's, owned by someone else.
  const fake: Runner = {
    where: "fake",
    close: async () => {},
    run: async () => ({ exitCode: 0, stdout: output(`1001 mal 777 directory|${home}`), stderr: "", timedOut: false }),
  };
  const err = await stateDirs(fake).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StateDirError);
  expect(String((err as Error).message)).toMatch(
    /\/home\/ann\/\.local\/state\/pulumi-shared-tunnel is a directory owned by mal \(uid 1001\) with mode 0777/,
  );
  expect(String((err as Error).message)).toMatch(/hint: someone else may have made it first: inspect it .*chmod 700/);
});

describe("writePrivateFile never writes into a name that already exists", () => {
  const name = (ext: string) => `${ROOT_STATE_DIR}/pst.unit.private-file.${process.pid}.${ext}`;
  afterEach(() => ["fifo", "link", "file", "target"].forEach((e) => rmSync(name(e), { force: true })));

  test("a FIFO placed under the name is replaced: its reader gets no byte", async () => {
    await stateDir(local);
    const fifo = name("fifo");
    expect((await local.run(["mkfifo", "-m", "666", fifo])).exitCode).toBe(0);
    const reader = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      await writePrivateFile(local, fifo, "secret key\n");
      const buf = Buffer.alloc(64);
      expect(() => readSync(reader, buf)).toThrow(/EAGAIN/);
      const st = lstatSync(fifo);
      expect([st.isFile(), st.mode & 0o777]).toEqual([true, 0o600]);
      expect(readFileSync(fifo, "utf8")).toBe("secret key\n");
    } finally {
      closeSync(reader);
    }
  });

  test("a symlink placed under the name is replaced; its target is unchanged", async () => {
    writeFileSync(name("target"), "theirs\n");
    symlinkSync(name("target"), name("link"));
    await writePrivateFile(local, name("link"), "ours\n", "700");
    expect(readFileSync(name("target"), "utf8")).toBe("theirs\n");
    expect(lstatSync(name("link")).isSymbolicLink()).toBe(false);
    expect(lstatSync(name("link")).mode & 0o777).toBe(0o700);
    expect(() => readlinkSync(name("link"))).toThrow();
  });

  test("no temporary file is left, and a path outside the state directory is refused", async () => {
    const mark = `unit write ${process.pid} ${Date.now()}\n`;
    await writePrivateFile(local, name("file"), mark);
    // Ours only: other processes may be writing in this shared directory right now.
    const leftover = await local.run([
      "sh",
      "-c",
      'for f in "$1"/.new.*; do [ -f "$f" ] && grep -lxF -- "$2" "$f"; done; exit 0',
      "sh",
      ROOT_STATE_DIR,
      mark.trim(),
    ]);
    expect(leftover.stdout).toBe("");
    await expect(writePrivateFile(local, "/tmp/pst.unit.elsewhere", "x")).rejects.toThrow(/not directly in the state directory/);
    expect(existsSync("/tmp/pst.unit.elsewhere")).toBe(false);
  });
});
