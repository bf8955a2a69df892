import { buildStatus } from "../../../provider/status/tunnel-status";
import { parseTag } from "../../../provider/tag";
import { facts, FWD, RULE } from "./fixtures";

describe("buildStatus", () => {
  test("a GatedTunnel up: one row, its listener, keeper, gate (the running guard's verdict) and expiry", () => {
    expect(buildStatus(facts(), {})).toEqual({
      checkedAt: "2026-12-06T12:58:20.000Z",
      guard: { running: true, pid: 50, mode: "events" },
      tunnels: [
        {
          tag: FWD,
          project: "demo",
          stack: "dev",
          resource: "web-forward",
          up: true,
          listener: { pid: 101, listening: true, at: "198.51.100.40:8080" },
          keeper: { pid: 100, state: "running", restarts: 2, lastRestart: "2026-12-06T12:58:10.000Z", lastExit: 255, lastError: "Connection reset" },
          gate: {
            tag: RULE,
            backend: "ufw",
            inPlace: true,
            verdict: "holds",
            connections: { accepted: 3, dropped: 5, lastAccepted: { source: "198.51.100.7", at: "2026-12-06T12:58:10.000Z" }, lostEvents: 1 },
          },
          expiry: { at: "2026-12-06T13:57:55.000Z", unix: 1796565475, watchdogRunning: true },
        },
      ],
    });
  });

  test("paused by the guard: why (its pause file), not up, gate not in place", () => {
    const f = facts();
    const files = new Map(f.files);
    files.set(`${FWD}.status`, "keeper_pid=100\nssh_pid=\nstate=paused\nrestarts=2\nlast_error=paused by the guard: ufw is inactive\n");
    files.set(`${FWD}.paused`, "ufw is inactive\n");
    const [t] = buildStatus(
      facts({
        files,
        processes: f.processes.filter((p) => p.kind !== "forward"),
        guard: { pid: 50, verdicts: new Map([[RULE, "ufw is inactive"]]) },
      }),
      {},
    ).tunnels;
    expect(t).toMatchObject({ up: false, listener: { listening: false }, keeper: { state: "paused", pausedBy: "ufw is inactive" } });
    expect(t.gate).toEqual({
      tag: RULE,
      backend: "ufw",
      inPlace: false,
      verdict: "ufw is inactive",
      connections: { accepted: 3, dropped: 5, lastAccepted: { source: "198.51.100.7", at: "2026-12-06T12:58:10.000Z" }, lostEvents: 1 },
    });
  });

  test("no guard running: the gate is not judged (a verdict left by a dead guard is never read)", () => {
    // (Counted or not: a host without nft counts nothing.)
    expect(buildStatus(facts({ guard: undefined, counts: undefined }), {}).tunnels[0].gate).toEqual({ tag: RULE, backend: "ufw" });
    expect(buildStatus(facts({ guard: { pid: 50 }, counts: undefined }), {}).tunnels[0].gate).toEqual({ tag: RULE, backend: "ufw" });
  });

  test("a keeper that has ended: listed down, its last counts and error kept; the pid its old status names is not taken for its ssh", () => {
    const [t] = buildStatus(facts({ processes: [], listeners: [] }), {}).tunnels;
    expect(t).toMatchObject({ up: false, keeper: { state: "gone", restarts: 2, lastError: "Connection reset" } });
    expect(t.keeper!.pid).toBeUndefined();
    expect(t.listener).toEqual({ listening: false });
  });

  test("another process listening with the ssh's old pid is not ours: only the pids we found count", () => {
    const [t] = buildStatus(facts({ processes: facts().processes.filter((p) => p.kind === "keeper") }), {}).tunnels;
    // The keeper runs and its own status names ssh 101: that one is trusted while this keeper is its writer.
    expect(t.listener).toMatchObject({ pid: 101, listening: true });
    const stale = new Map(facts().files);
    stale.set(`${FWD}.status`, "keeper_pid=99\nssh_pid=101\nstate=running\nrestarts=0\n");
    const [u] = buildStatus(facts({ files: stale, processes: facts().processes.filter((p) => p.kind === "keeper") }), {}).tunnels;
    expect(u.listener).toEqual({ listening: false });
  });

  test("a gate that gates no forward here is its own row; --stack selects as reap's does", () => {
    const other = "pst.demo.prod.db-allow.aaaaaaaaaaaa.1796561000";
    const rows = buildStatus(facts({ gates: [RULE, other] }), {}).tunnels;
    expect(rows.map((r) => [r.tag, r.up, r.keeper === undefined])).toEqual([
      [FWD, true, false],
      [other, false, true],
    ]);
    expect(buildStatus(facts({ gates: [RULE, other] }), { stack: "prod" }).tunnels.map((r) => r.tag)).toEqual([other]);
    expect(buildStatus(facts(), { stack: "nope" }).tunnels).toEqual([]);
  });

  test("a watchdog alone (a SharedTunnel's, its keeper gone and status removed) is no tunnel", () => {
    const tag = parseTag("pst.demo.dev.solo.cccccccccccc.1796561000")!;
    expect(buildStatus(facts({ processes: [{ kind: "watchdog", pid: 7, tag }], files: new Map(), gates: [], pairings: [] }), {}).tunnels).toEqual([]);
  });

  test("nothing of ours: no rows", () => {
    expect(buildStatus({ now: 0, processes: [], pairings: [], files: new Map(), gates: [], listeners: [] }, {})).toEqual({
      checkedAt: "1970-01-01T00:00:00.000Z",
      guard: { running: false },
      tunnels: [],
    });
  });
});
