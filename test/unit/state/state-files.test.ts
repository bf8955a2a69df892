import { LocalRunner } from "../../../provider/host/local-runner";
import type { Runner } from "../../../provider/host/runner";
import { parseStateFiles } from "../../../provider/state/state-files";
import { existingStateDirs, ROOT_STATE_DIR, stateDirs } from "../../../provider/state/state-dir";

const dir = "/run/pulumi-shared-tunnel";
const T = "pst.demo.dev.web-forward.0123456789ab.1796561876";

describe("parseStateFiles", () => {
  test("each NUL-ended piece is one file, its content whole (newlines and colons included)", () => {
    const text = `${dir}/${T}.status:keeper_pid=12\nlast_error=a: b\n\0${dir}/${T}.paused:why\n\0`;
    expect(parseStateFiles(text, dir, [".status", ".paused"])).toEqual(
      new Map([
        [`${T}.status`, "keeper_pid=12\nlast_error=a: b\n"],
        [`${T}.paused`, "why\n"],
      ]),
    );
  });
  test("a piece outside the directory, not a tag, or with another suffix is skipped; a line cannot pose as a file", () => {
    const text = [
      `/elsewhere/${T}.status:x`,
      `${dir}/notours.status:x`,
      `${dir}/${T}.log:x`,
      `${dir}/${T}.paused:reason\n${dir}/${T}.status:keeper_pid=1`,
    ].join("\0");
    expect([...parseStateFiles(text, dir, [".status", ".paused"]).entries()]).toEqual([[`${T}.paused`, `reason\n${dir}/${T}.status:keeper_pid=1`]]);
  });
});

describe("existingStateDirs creates nothing", () => {
  test("a host without the directory: undefined, and the check ran in peek mode", async () => {
    const seen: string[][] = [];
    const missing = ["65534", "- - - missing|/nonexistent/.local/state/pulumi-shared-tunnel", "- - - missing|/", "- - - missing|/tmp/x"].join("\n");
    const fake: Runner = {
      where: "fake",
      run: async (argv) => (seen.push([...argv]), { stdout: missing, stderr: "", exitCode: 0, timedOut: false }),
      close: async () => {},
    };
    expect(await existingStateDirs(fake)).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0].at(-1)).toBe("peek");
  });
  test("a user with no state directory yet (nobody, whose home does not exist): undefined, and nothing made", async () => {
    const local = new LocalRunner();
    const asNobody: Runner = {
      where: "nobody",
      run: (argv, o) => local.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv], o),
      close: async () => {},
    };
    expect(await existingStateDirs(asNobody)).toBeUndefined();
    expect((await local.run(["test", "-e", "/nonexistent"])).exitCode).not.toBe(0);
  });
  test("root's existing directory is found and checked as stateDirs checks it", async () => {
    await stateDirs(new LocalRunner());
    expect(await existingStateDirs(new LocalRunner())).toMatchObject({ dir: ROOT_STATE_DIR });
  });
});
