import { buildForwardArgv, buildPreflightArgv, knownHostsLine } from "../../../provider/ssh/forward-argv";

const gw = { host: "198.18.1.2", port: 22, user: "pstgw", identityFile: "/k", knownHostsFile: "/kh" };
const spec = {
  gateway: gw,
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  target: { host: "127.0.0.1", port: 8000 },
  keepAliveSeconds: 15,
  logFile: "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log",
};

const optionValues = (argv: string[]) => argv.flatMap((a, i) => (argv[i - 1] === "-o" ? [a] : []));

describe("buildForwardArgv", () => {
  const argv = buildForwardArgv(spec);

  test("forwards the bind address to the target in the foreground (the keeper waits for it), exiting when the listener cannot be bound", () => {
    expect(argv.slice(0, 2)).toEqual(["ssh", "-N"]);
    expect(argv).not.toContain("-f");
    expect(argv[argv.indexOf("-L") + 1]).toBe("198.51.100.40:8080:127.0.0.1:8000");
    expect(optionValues(argv)).toEqual(expect.arrayContaining(["ExitOnForwardFailure=yes", "LogLevel=VERBOSE"]));
  });

  test("ignores the user's ssh config so no ControlMaster can own the listener", () => {
    expect(argv[argv.indexOf("-F") + 1]).toBe("none");
    expect(optionValues(argv)).toEqual(
      expect.arrayContaining([
        "ControlMaster=no",
        "ControlPath=none",
        "BatchMode=yes",
        "StrictHostKeyChecking=yes",
        "UserKnownHostsFile=/kh",
        "IdentityFile=/k",
      ]),
    );
  });

  test("the host comes after -- so it can never be read as an option", () => {
    expect(argv.slice(-2)).toEqual(["--", "198.18.1.2"]);
  });

  test("carries the tag in argv through the log path", () => {
    expect(argv[argv.indexOf("-E") + 1]).toContain("pst.dev.web.1");
  });

  test("IPv6 addresses are bracketed", () => {
    const v6 = buildForwardArgv({ ...spec, bindAddress: "2001:db8:100::40", target: { host: "::1", port: 8000 } });
    expect(v6[v6.indexOf("-L") + 1]).toBe("[2001:db8:100::40]:8080:[::1]:8000");
  });
});

test("preflight opens the same kind of channel to the target", () => {
  const argv = buildPreflightArgv(gw, "127.0.0.1", 8000);
  expect(argv[argv.indexOf("-W") + 1]).toBe("127.0.0.1:8000");
  expect(argv).not.toContain("-f");
});

test("known_hosts uses [host]:port for non-standard ports", () => {
  expect(knownHostsLine("gw", 22, "ssh-ed25519 AAAA")).toBe("gw ssh-ed25519 AAAA\n");
  expect(knownHostsLine("gw", 2222, "ssh-ed25519 AAAA")).toBe("[gw]:2222 ssh-ed25519 AAAA\n");
});

test("an encrypted key is unlocked through askpass: env execs ssh, and no other prompt is allowed", () => {
  const argv = buildForwardArgv({ ...spec, gateway: { ...gw, askpassFile: "/tmp/pulumi-shared-tunnel/t.askpass" } });
  expect(argv.slice(0, 5)).toEqual(["env", "SSH_ASKPASS=/tmp/pulumi-shared-tunnel/t.askpass", "SSH_ASKPASS_REQUIRE=force", "ssh", "-N"]);
  expect(optionValues(argv)).toEqual(
    expect.arrayContaining(["BatchMode=no", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no", "StrictHostKeyChecking=yes"]),
  );
  expect(optionValues(argv)).not.toContain("BatchMode=yes");
});
