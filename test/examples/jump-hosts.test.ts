import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readLab, type Lab } from "../support/lab";
import { readGatewayPathsLab } from "../support/lab-gateway-paths";
import { whileUntrustedTries } from "../support/prober";
import { exampleStack, expectGated, expectNothingLeft, stackTagPrefix } from "./support";

/**
 * examples/jump-hosts: the provider reaches the tunnel host only through the lab's bastion (the
 * tunnel host's sshd on its loopback), with an ssh-agent started here holding the bastion's and the
 * tunnel host's keys; the forward reaches the second gateway only through the two jump hosts, its
 * login from the agent on the tunnel host. The untrusted client keeps trying through up.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const gp = readGatewayPathsLab();
const PORT = 8164;
const stack = exampleStack("jump-hosts", "jump");
const prefix = stackTagPrefix("jump-hosts-example", stack.name);
const agentDir = mkdtempSync(path.join(tmpdir(), "pst-agent-"));
const agentSocket = path.join(agentDir, "agent.sock");
let agentPid = 0;
let url = "";

beforeAll(() => {
  const started = spawnSync("ssh-agent", ["-a", agentSocket, "-s"], { encoding: "utf8" });
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]);
  if (!agentPid) throw new Error(`ssh-agent did not start: ${started.stderr}`);
  const added = spawnSync("ssh-add", [lab.jump.key, lab.thKey], { encoding: "utf8", env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
  if (added.status !== 0) throw new Error(`ssh-add failed: ${added.stderr}`);
});

afterAll(async () => {
  await stack.run("destroy");
  if (agentPid) process.kill(agentPid, "SIGTERM");
  rmSync(agentDir, { recursive: true, force: true });
});

test("up through a bastion and two gateway hops, agents only: the trusted client gets in, the untrusted one never does", async () => {
  const config = {
    tunnelHost: lab.thBehindJump,
    tunnelHostUser: lab.thUser,
    tunnelHostKey: lab.thHostKey,
    agentSocket,
    bastions: JSON.stringify([{ host: lab.jump.addr, port: lab.jump.port, user: lab.jump.user, hostKey: lab.jump.hostKey }]),
    gatewayHost: gp.gwBehindAddr,
    gatewayUser: lab.gwUser,
    gatewayHostKey: lab.gwHostKey,
    gatewayAgentSocket: gp.thAgentSock,
    gatewayJumpHosts: JSON.stringify([
      { host: gp.j1Addr, user: gp.jumpUser, privateKeyPath: gp.j1Key, hostKey: gp.j1HostKey },
      { host: gp.j2Addr, user: gp.jumpUser, privateKeyPath: gp.j2Key, hostKey: gp.j2HostKey },
    ]),
    bindAddress: lab.thTrusted,
    bindPort: String(PORT),
    sources: JSON.stringify([lab.trustedCidr]),
  };
  const { result } = await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port: PORT }], () => stack.ok("up", config));
  url = String(result.url);
  expect(url).toBe(`http://${lab.thTrusted}:${PORT}/`);
  await expectGated(lab, url);
});

test("destroy, also through the bastion: nothing of the stack is left on the tunnel host", async () => {
  await stack.ok("destroy");
  await expectNothingLeft(lab, prefix, [url]);
});
