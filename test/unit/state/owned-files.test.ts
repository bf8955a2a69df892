import { InternalError } from "../../../provider/errors";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { removeOwnedFiles, removeOwnedFilesByPrefix, sweptByPrefix } from "../../../provider/state/owned-files";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR } from "../../../provider/state/state-dir";

/** A host whose legacy directory is ours too (so both directories are cleaned); records what ran. */
function host(): { runner: Runner; ran: string[][] } {
  const ran: string[][] = [];
  const lines = [
    "0",
    `0 root 700 directory|${ROOT_STATE_DIR}`,
    "0 root 755 directory|/run",
    "0 root 755 directory|/",
    `0 root 700 directory|${LEGACY_STATE_DIR}`,
  ];
  const runner: Runner = {
    where: "owned-files",
    close: async () => {},
    run: async (argv): Promise<RunResult> => {
      if (argv[0] === "sh" && argv[2].startsWith("umask 077")) return { exitCode: 0, stdout: lines.join("\n"), stderr: "", timedOut: false };
      ran.push([...argv]);
      return { exitCode: 0, stdout: "", stderr: "", timedOut: false };
    },
  };
  return { runner, ran };
}

test("one command removes every suffix in both directories; the prefix and directories are arguments, not script text", async () => {
  const h = host();
  await removeOwnedFilesByPrefix(h.runner, "pst.p.s.r.", [".key", ".deadline"]);
  expect(h.ran).toEqual([
    ["sh", "-c", 'p=$1; shift; for d; do rm -f -- "$d/$p"*.key "$d/$p"*.deadline; done', "sh", "pst.p.s.r.", ROOT_STATE_DIR, LEGACY_STATE_DIR],
  ]);
});

test.each([
  ["an empty prefix (it would match every file)", "", [""]],
  ["a prefix with a slash", "pst.a/../x", [".key"]],
  ["a prefix that is not a tag", "..", [".key"]],
  ["a suffix with shell syntax", "pst.p.", ["$(id)"]],
  ["no suffix at all", "pst.p.", []],
])("refuses %s before running anything", async (_what, prefix, suffixes) => {
  const h = host();
  await expect(removeOwnedFilesByPrefix(h.runner, prefix, suffixes)).rejects.toBeInstanceOf(InternalError);
  expect(h.ran).toEqual([]);
});

test.each([
  ["an empty prefix (it would match every file)", ""],
  ["a prefix with a slash", "pst.a/../x"],
  ["a prefix that is not a tag", ".."],
  ["a prefix with a glob", "pst.p*"],
])("a sweep for a write refuses %s too", (_what, prefix) => {
  expect(() => sweptByPrefix(ROOT_STATE_DIR, prefix)).toThrow(InternalError);
});

test("files by name: one rm for both directories", async () => {
  const h = host();
  await removeOwnedFiles(h.runner, ["a.key", "a.log"]);
  expect(h.ran).toEqual([
    ["rm", "-f", "--", `${ROOT_STATE_DIR}/a.key`, `${ROOT_STATE_DIR}/a.log`, `${LEGACY_STATE_DIR}/a.key`, `${LEGACY_STATE_DIR}/a.log`],
  ]);
});
