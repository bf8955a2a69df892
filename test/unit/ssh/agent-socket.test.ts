import { agentSocketProblem, AgentSocketError, checkAgentSockets } from "../../../provider/ssh/agent-socket";
import type { Runner } from "../../../provider/host/runner";

/** What the check's script prints: the uids line, then the socket and each parent up to /. */
const listing = (
  uids: string,
  socket: string,
  parents: string[] = ["1000 ann 700 directory|/tmp/ssh-ann", "0 root 1777 directory|/tmp", "0 root 755 directory|/"],
) => [uids, socket, ...parents].join("\n");
const SOCK = "1000 ann 600 socket|/tmp/ssh-ann/agent.1";

describe("agentSocketProblem", () => {
  test("the user's own agent below a 0700 directory of theirs in sticky /tmp is used", () => {
    expect(agentSocketProblem(listing("1000 ", SOCK))).toBeUndefined();
  });
  test("root's agent is used by any user; under sudo, the login user's too", () => {
    expect(
      agentSocketProblem(listing("1000 ", "0 root 600 socket|/run/agent.sock", ["0 root 755 directory|/run", "0 root 755 directory|/"])),
    ).toBeUndefined();
    expect(agentSocketProblem(listing("0 1000", SOCK))).toBeUndefined();
  });
  test.each([
    [
      "another user's socket",
      listing("1000 ", "1001 mal 600 socket|/tmp/ssh-ann/agent.1"),
      /owned by mal \(uid 1001\).*must be the socket of a running ssh-agent owned by root or uid 1000 \(the connection user\)/,
    ],
    ["under sudo, a third user's socket", listing("0 1000", "1001 mal 600 socket|/tmp/ssh-ann/agent.1"), /owned by mal \(uid 1001\)/],
    ["a missing socket", listing("1000 ", "- - - missing|/tmp/ssh-ann/agent.1"), /\/tmp\/ssh-ann\/agent\.1 is missing/],
    ["a regular file", listing("1000 ", "1000 ann 600 regular file|/tmp/ssh-ann/agent.1"), /is a regular file owned by ann/],
    ["a symlink (even to a good socket)", listing("1000 ", "1000 ann 777 symbolic link|/tmp/ssh-ann/agent.1"), /is a symbolic link/],
  ])("%s is refused", (_, out, reason) => {
    expect(agentSocketProblem(out)).toMatch(reason);
  });
  test("a parent another user owns, or can write without the sticky bit, is refused", () => {
    const malDir = listing("1000 ", SOCK, ["1001 mal 700 directory|/tmp/ssh-ann", "0 root 1777 directory|/tmp", "0 root 755 directory|/"]);
    expect(agentSocketProblem(malDir)).toMatch(/\/tmp\/ssh-ann is a directory owned by mal \(uid 1001\).* a parent of the agent socket/);
    const openDir = listing("1000 ", SOCK, ["1000 ann 777 directory|/tmp/ssh-ann", "0 root 1777 directory|/tmp", "0 root 755 directory|/"]);
    expect(agentSocketProblem(openDir)).toMatch(/\/tmp\/ssh-ann is a directory owned by ann \(uid 1000\) with mode 0777/);
    const groupDir = listing("1000 ", SOCK, ["1000 ann 770 directory|/tmp/ssh-ann", "0 root 755 directory|/tmp", "0 root 755 directory|/"]);
    expect(agentSocketProblem(groupDir)).toMatch(/mode 0770/);
  });
  test("output it cannot read is refused, not trusted", () => {
    expect(agentSocketProblem("")).toMatch(/could not read the socket's owner/);
  });
});

test("a refused socket is a typed error naming the input, the path, the command and the fix", async () => {
  const ran: string[][] = [];
  const fake: Runner = {
    where: "root@th:22",
    close: async () => {},
    run: async (argv) => {
      ran.push([...argv]);
      return { exitCode: 0, stdout: listing("0 ", "1001 mal 600 socket|/tmp/ssh-ann/agent.1"), stderr: "", timedOut: false };
    },
  };
  const err = await checkAgentSockets(fake, [{ property: "gateway.jumpHosts[0].agentSocket", path: "/tmp/ssh-ann/agent.1" }]).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentSocketError);
  const text = (err as Error).message;
  expect(text).toMatch(
    /^check the agent socket on root@th:22 failed: gateway\.jumpHosts\[0\]\.agentSocket: \/tmp\/ssh-ann\/agent\.1 is a socket owned by mal/,
  );
  expect(text).toMatch(
    /owned by mal \(uid 1001\) with mode 0600; it must be the socket of a running ssh-agent owned by root \(the connection user\)\n/,
  );
  expect(text).toMatch(/\n {2}command: 'sh' '-c' '[\s\S]*' 'sh' '\/tmp\/ssh-ann\/agent\.1'\n/);
  expect(text).toMatch(/\n {2}hint: use an agent started by root or the connection user .*ls -la '\/tmp\/ssh-ann\/agent\.1'/);
  expect(ran).toHaveLength(1);
});

test("each socket is checked once, and nothing runs when none is given", async () => {
  const ran: string[][] = [];
  const fake: Runner = {
    where: "local",
    close: async () => {},
    run: async (argv) => (ran.push([...argv]), { exitCode: 0, stdout: listing("1000 ", SOCK), stderr: "", timedOut: false }),
  };
  await checkAgentSockets(fake, []);
  expect(ran).toHaveLength(0);
  const s = { property: "gateway.agentSocket", path: "/tmp/ssh-ann/agent.1" };
  await checkAgentSockets(fake, [s, { ...s, property: "gateway.jumpHosts[0].agentSocket" }]);
  expect(ran).toHaveLength(1);
});
