import type { HostFacts } from "../../../provider/status/tunnel-status";
import { parseTag } from "../../../provider/tag";

/** A GatedTunnel's tags as the component makes them, and a host where it runs: up, gated by ufw, expiring. */
export const FWD = "pst.demo.dev.web-forward.0123456789ab.1796561876";
export const RULE = "pst.demo.dev.web-allow.ba9876543210.1796561875";
const NOW = 1796561900;

export function facts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    now: NOW,
    processes: [
      { kind: "keeper", pid: 100, tag: parseTag(FWD)! },
      { kind: "forward", pid: 101, tag: parseTag(FWD)! },
      { kind: "watchdog", pid: 102, tag: parseTag(RULE)! },
    ],
    pairings: [{ forwardTag: FWD, ruleTag: RULE }],
    files: new Map([
      [
        `${FWD}.status`,
        "keeper_pid=100\nssh_pid=101\nstate=running\nrestarts=2\nlast_restart=1796561890\nlast_exit=255\nlast_error=Connection reset\n",
      ],
      [`${RULE}.gate`, `{"netns":"4026531840","backend":"ufw","port":8080,"protocol":"tcp","families":["ip"],"sources":["198.51.100.0/24"]}\n`],
      [`${RULE}.deadline`, "1796565475\n"],
    ]),
    gates: [RULE],
    guard: { pid: 50, mode: "events", verdicts: new Map([[RULE, "holds"]]) },
    listeners: [{ address: "198.51.100.40", port: 8080, processes: [{ name: "ssh", pid: 101, fd: 5 }] }],
    counts: new Map([
      [
        RULE,
        {
          accepted: [{ source: "198.51.100.7", attempts: 3, lastAt: new Date((NOW - 10) * 1000) }],
          dropped: [{ source: "203.0.113.9", attempts: 5, lastAt: new Date((NOW - 5) * 1000) }],
          records: { records: [], lostEvents: 1 },
        },
      ],
    ]),
    ...over,
  };
}
