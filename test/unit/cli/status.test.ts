import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStatusArgs, writeTextfile } from "../../../provider/cli/status";

describe("parseStatusArgs", () => {
  test("a table by default, on this machine", () => {
    expect(parseStatusArgs([])).toEqual({ output: "table" });
  });
  test("--host as for reap, --stack, one output", () => {
    const host = ["--host", "h", "--user", "u", "--key", "/k", "--host-key", "ssh-ed25519 AAAA", "--port", "2222", "--sudo"];
    expect(parseStatusArgs([...host, "--stack", "dev", "--json"])).toEqual({
      connection: { host: "h", user: "u", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA", port: 2222, sudo: true },
      stack: "dev",
      output: "json",
    });
    expect(parseStatusArgs(["--prometheus"]).output).toBe("prometheus");
    expect(parseStatusArgs(["--textfile", "/var/lib/node_exporter/pst.prom"])).toEqual({
      output: "prometheus",
      textfile: "/var/lib/node_exporter/pst.prom",
    });
  });
  test.each([
    [["--json", "--prometheus"], /choose one/],
    [["--textfile"], /needs a value/],
    [["--textfile", ""], /needs a file's path/],
    [["--user", "u"], /need --host/],
    [["--host", "h"], /needs --user, --key and --host-key/],
    [["--dry-run"], /unknown argument/],
  ])("%j is refused", (argv, reason) => {
    expect(() => parseStatusArgs(argv)).toThrow(reason);
  });
});

describe("writeTextfile", () => {
  const dir = mkdtempSync(join(tmpdir(), "pst-textfile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("replaces the file whole by rename, readable by node_exporter, and leaves no temporary file", () => {
    const path = join(dir, "pst.prom");
    writeTextfile(path, "old\n");
    const before = statSync(path).ino;
    writeTextfile(path, "new\n");
    expect(readFileSync(path, "utf8")).toBe("new\n");
    expect(statSync(path).ino).not.toBe(before);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["pst.prom"]);
  });
  test("a directory that does not exist: an error, and nothing left", () => {
    expect(() => writeTextfile(join(dir, "no-such", "pst.prom"), "x\n")).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(["pst.prom"]);
  });
});
