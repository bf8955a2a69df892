import { parseConnectionsArgs } from "../../../provider/cli/connections";

describe("parseConnectionsArgs", () => {
  test("every rule's records as a table by default, on this machine", () => {
    expect(parseConnectionsArgs([])).toEqual({ filter: {}, json: false });
  });
  test("--host as for reap, --tag or --stack, --since as a duration or seconds, --json", () => {
    const host = ["--host", "h", "--user", "u", "--key", "/k", "--host-key", "ssh-ed25519 AAAA"];
    expect(parseConnectionsArgs([...host, "--stack", "dev", "--since", "1h30m", "--json"])).toEqual({
      connection: { host: "h", user: "u", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA" },
      filter: { stack: "dev" },
      sinceSeconds: 5400,
      json: true,
    });
    expect(parseConnectionsArgs(["--tag", "pst.demo.dev.web-allow.", "--since", "90"])).toEqual({
      filter: { tag: "pst.demo.dev.web-allow." },
      sinceSeconds: 90,
      json: false,
    });
  });
  test.each([
    [["--tag", "pst.a", "--stack", "dev"], /choose one/],
    [["--since", "1 hour"], /--since "1 hour" is not a duration/],
    [["--since"], /needs a value/],
    [["--user", "u"], /need --host/],
    [["--prometheus"], /unknown argument/],
  ])("%j is refused", (argv, reason) => {
    expect(() => parseConnectionsArgs(argv)).toThrow(reason);
  });
});
