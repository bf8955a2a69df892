import { parseKeeperList, parseKeeperStatus } from "../../../provider/keeper/keeper";

describe("parseKeeperStatus", () => {
  test("reads what the keeper writes; the last error keeps any = it holds", () => {
    const text = "keeper_pid=12\nssh_pid=34\nstate=running\nrestarts=2\nlast_restart=1795617874\nlast_exit=255\nlast_error=Bad a=b\n";
    expect(parseKeeperStatus(text)).toEqual({
      keeperPid: 12,
      sshPid: 34,
      state: "running",
      restarts: 2,
      lastRestart: 1795617874,
      lastExit: 255,
      lastError: "Bad a=b",
    });
  });
  test("empty fields are absent", () => {
    expect(parseKeeperStatus("keeper_pid=12\nssh_pid=\nstate=backoff\nrestarts=0\nlast_restart=\nlast_exit=\nlast_error=\n")).toEqual({
      keeperPid: 12,
      state: "backoff",
      restarts: 0,
    });
  });
  test.each(["", "state=running\n", "keeper_pid=x\nstate=running\n", "keeper_pid=1\nstate=weird\n"])("%j is no status", (text) => {
    expect(parseKeeperStatus(text)).toBeUndefined();
  });
});

describe("parseKeeperList", () => {
  const dirs = ["/run/pulumi-shared-tunnel"];
  const tag = "pst.p.s.web-forward.0123456789ab.1795617874";
  test("finds keepers by their exact argv, and their deadline timers", () => {
    expect(
      parseKeeperList(
        [
          { pid: 10, argv: ["sh", `/run/pulumi-shared-tunnel/${tag}.keeper`] },
          { pid: 11, argv: ["sh", "-c", "sleep ...", `/run/pulumi-shared-tunnel/${tag}.timer`, "60", "10"] },
        ],
        dirs,
      ),
    ).toEqual([
      { pid: 10, dir: "/run/pulumi-shared-tunnel", tag, kind: "keeper" },
      { pid: 11, dir: "/run/pulumi-shared-tunnel", tag, kind: "timer" },
    ]);
  });
  test.each([
    [["sh", `/tmp/elsewhere/${tag}.keeper`]],
    [["sh", `/run/pulumi-shared-tunnel/${tag}.keeper`, "extra"]],
    [["bash", `/run/pulumi-shared-tunnel/${tag}.keeper`]],
    [["sh", `/run/pulumi-shared-tunnel/${tag}.watchdog`]],
    [["sh", "-c", "x", `/run/pulumi-shared-tunnel/${tag}.keeper`, "1", "2"]],
  ])("%j is not one", (argv) => {
    expect(parseKeeperList([{ pid: 1, argv }], dirs)).toEqual([]);
  });
});
