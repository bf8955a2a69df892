import { formatStatusTable } from "../../../provider/status/table";
import { buildStatus } from "../../../provider/status/tunnel-status";
import { facts, FWD, RULE } from "./fixtures";

describe("formatStatusTable", () => {
  test("a row per tunnel, its tags and last error below it, the guard last", () => {
    expect(formatStatusTable(buildStatus(facts(), {}))).toBe(
      [
        "STACK  RESOURCE     UP   LISTENER                       KEEPER                       GATE           CONNECTIONS      EXPIRES",
        "dev    web-forward  yes  pid 101 on 198.51.100.40:8080  pid 100 running, 2 restarts  ufw: in place  3 in, 5 dropped  2026-12-06T13:57:55.000Z",
        `  tag ${FWD}, gate ${RULE}`,
        "  last error: Connection reset",
        "  last in: 198.51.100.7 at 2026-12-06T12:58:10.000Z",
        "guard: pid 50 (events)",
        "",
      ].join("\n"),
    );
  });

  test("paused: why, once; no guard: said so; host text is made printable", () => {
    const files = new Map(facts().files);
    files.set(`${FWD}.paused`, "ufw \x1b[2Jis inactive\n");
    const paused = formatStatusTable(buildStatus(facts({ files, guard: { pid: 50, verdicts: new Map([[RULE, "ufw \x1b[2Jis inactive"]]) } }), {}));
    expect(paused).toContain("  paused by the guard: ufw \\x1b[2Jis inactive\n");
    expect(paused).not.toContain("gate: ufw");
    expect(paused).not.toContain("\x1b");
    const unguarded = formatStatusTable(buildStatus(facts({ guard: undefined }), {}));
    expect(unguarded).toContain("ufw: not judged");
    expect(unguarded).toContain("  gate: no guard is running to judge it\n");
    expect(unguarded.endsWith("guard: not running\n")).toBe(true);
    expect(formatStatusTable(buildStatus(facts({ guard: { pid: 50, mode: "events", verdicts: new Map() } }), {}))).toContain(
      "  gate: the guard has not judged it yet\n",
    );
  });

  test("a host that cannot count (no nft): no connections, said by a dash", () => {
    const text = formatStatusTable(buildStatus(facts({ counts: undefined }), {}));
    expect(text).toContain("ufw: in place  -  ");
    expect(text).not.toContain("last in:");
  });

  test("nothing of ours", () => {
    expect(formatStatusTable({ checkedAt: "", guard: { running: false }, tunnels: [] })).toBe("nothing of ours found\nguard: not running\n");
  });
});
