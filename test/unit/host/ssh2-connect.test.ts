import { agentPath, stepsOf } from "../../../provider/host/ssh2-connect";
import { SshConnectError } from "../../../provider/errors";

/** How the chain is laid out and named, and which agent it uses: what errors and credentials rest on. */
const conn = { host: "127.0.0.1", user: "root", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA" };
const hop = (host: string, user: string) => ({ host, user, port: 2222, privateKeyPath: `/${user}`, hostKey: "ssh-ed25519 BBBB" });

test("the steps run nearest first, the tunnel host last; each hop named by position, address and property", () => {
  const steps = stepsOf({ ...conn, jumpHosts: [hop("198.18.22.2", "b1"), hop("198.18.1.2", "b2")] });
  expect(steps.map((s) => [s.label, s.property, s.where, s.endpoint.privateKeyPath])).toEqual([
    ["jump host 1 of 2 (198.18.22.2:2222)", "connection.jumpHosts[0]", "b1@198.18.22.2:2222", "/b1"],
    ["jump host 2 of 2 (198.18.1.2:2222)", "connection.jumpHosts[1]", "b2@198.18.1.2:2222", "/b2"],
    ["the tunnel host", "connection", "root@127.0.0.1:22", "/k"],
  ]);
});

test("no hops: the tunnel host alone", () => {
  expect(stepsOf(conn).map((s) => s.label)).toEqual(["the tunnel host"]);
});

describe("agentPath", () => {
  const before = process.env.SSH_AUTH_SOCK;
  afterEach(() => {
    if (before === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = before;
  });
  test("a path is used as given; none asked for is none, even with SSH_AUTH_SOCK set", () => {
    process.env.SSH_AUTH_SOCK = "/env.sock";
    expect(agentPath({ ...conn, agent: "/given.sock" })).toBe("/given.sock");
    expect(agentPath(conn)).toBeUndefined();
  });
  test("true reads SSH_AUTH_SOCK of this process", () => {
    process.env.SSH_AUTH_SOCK = "/env.sock";
    expect(agentPath({ ...conn, agent: true })).toBe("/env.sock");
  });
  test("true without SSH_AUTH_SOCK fails with what, where and a hint", () => {
    delete process.env.SSH_AUTH_SOCK;
    expect(() => agentPath({ ...conn, agent: true })).toThrow(SshConnectError);
    expect(() => agentPath({ ...conn, agent: true })).toThrow(
      /connect to the tunnel host on root@127\.0\.0\.1:22 failed: connection\.agent is true, but SSH_AUTH_SOCK is not set[\s\S]*hint: start an agent/,
    );
  });
});
