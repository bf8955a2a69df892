import { parseReapArgs } from "../../../provider/cli/reap";
import { startFitsTag } from "../../../provider/reap/find-ours";
import { parseTag } from "../../../provider/tag";
import { formatReapTable } from "../../../provider/reap/reap";

describe("parseTag", () => {
  test("reads our tags", () => {
    expect(parseTag("pst.demo.ci-1.web-forward.1795617874")).toEqual({
      tag: "pst.demo.ci-1.web-forward.1795617874",
      project: "demo",
      stack: "ci-1",
      resource: "web-forward",
      createdUnix: 1795617874,
    });
  });
  test.each([
    "pst.demo.ci.web",
    "pst.demo.ci.web.x",
    "handmade",
    "pst.a.b.c.d.1795617874",
    "xpst.demo.ci.web.1795617874",
    "pst.demo.ci.we b.1795617874",
    "",
  ])("%j is not ours", (tag) => {
    expect(parseTag(tag)).toBeUndefined();
  });
});

describe("startFitsTag", () => {
  const tag = parseTag("pst.p.s.r.1795617874")!;
  test("a keeper starts within minutes after its tag", () => {
    expect(startFitsTag({ kind: "keeper", tag, startUnix: tag.createdUnix + 2 })).toBe(true);
    expect(startFitsTag({ kind: "keeper", tag, startUnix: tag.createdUnix - 60 })).toBe(true);
    expect(startFitsTag({ kind: "keeper", tag, startUnix: tag.createdUnix + 86400 })).toBe(false);
    expect(startFitsTag({ kind: "keeper", tag, startUnix: tag.createdUnix - 3600 })).toBe(false);
  });
  test("its ssh may be restarted at any time after", () => {
    expect(startFitsTag({ kind: "forward", tag, startUnix: tag.createdUnix + 86400 })).toBe(true);
    expect(startFitsTag({ kind: "forward", tag, startUnix: tag.createdUnix - 3600 })).toBe(false);
  });
  test("a watchdog may be restarted by any later update", () => {
    expect(startFitsTag({ kind: "watchdog", tag, startUnix: tag.createdUnix + 86400 })).toBe(true);
    expect(startFitsTag({ kind: "watchdog", tag, startUnix: tag.createdUnix - 3600 })).toBe(false);
  });
});

describe("parseReapArgs", () => {
  test("local, with filters", () => {
    expect(parseReapArgs(["--older-than", "1h", "--stack", "ci-1", "--dry-run"])).toEqual({
      options: { dryRun: true, stack: "ci-1", olderThanSeconds: 3600 },
    });
    expect(parseReapArgs(["--older-than", "90"]).options.olderThanSeconds).toBe(90);
  });
  test("remote needs user, key and the pinned host key", () => {
    const parsed = parseReapArgs([
      "--host",
      "198.18.0.2",
      "--user",
      "root",
      "--key",
      "/k",
      "--host-key",
      "ssh-ed25519 AAAA",
      "--sudo",
      "--port",
      "2222",
    ]);
    expect(parsed.connection).toEqual({
      host: "198.18.0.2",
      user: "root",
      privateKeyPath: "/k",
      hostKey: "ssh-ed25519 AAAA",
      port: 2222,
      sudo: true,
    });
    expect(() => parseReapArgs(["--host", "198.18.0.2", "--user", "root"])).toThrow(/--host-key/);
    expect(() => parseReapArgs(["--user", "root"])).toThrow(/need --host/);
  });
  test("refuses what it does not know", () => {
    expect(() => parseReapArgs(["--force"])).toThrow(/unknown argument/);
    expect(() => parseReapArgs(["--older-than", "soon"])).toThrow(/--older-than/);
    expect(() => parseReapArgs(["--stack"])).toThrow(/needs a value/);
  });
});

test("formatReapTable aligns columns", () => {
  expect(formatReapTable([])).toBe("nothing of ours found\n");
  const text = formatReapTable([
    { unit: "1", kind: "forward", tag: "pst.p.s.r.1", what: "pid 5", action: "would stop" },
    { unit: "1", kind: "rule", tag: "pst.p.s.r-allow.1", what: "ufw: tcp port 80 from 10.0.0.0/8", action: "would remove" },
  ]);
  const lines = text.trim().split("\n");
  expect(lines[0]).toMatch(/^UNIT +KIND +TAG +WHAT +ACTION$/);
  expect(lines.map((l) => l.indexOf(l.split(/ {2,}/)[3]))).toEqual([lines[0].indexOf("WHAT"), lines[0].indexOf("WHAT"), lines[0].indexOf("WHAT")]);
});
