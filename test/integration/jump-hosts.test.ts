import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { waitFor } from "../../provider/state/wait-for";
import { fetchFrom, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { thSshdLogFromNow } from "../support/jump-hosts";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";
import { labGatewayConfig } from "../support/lab-config";
import type { HopConfig } from "../programs/lab-hosts";

/**
 * connection.jumpHosts and connection.agent through real `pulumi up`: a SharedTunnel reaches its
 * tunnel host through the lab's bastion, then through the bastion and the gateway, and the tunnel
 * host's sshd logs it arriving from the last hop, never from this machine; changing the hops is an
 * update (same forward); a wrong key on hop 2 is named and leaves nothing; an ssh-agent (by path,
 * or SSH_AUTH_SOCK) replaces the keys; what ssh2 cannot do is refused by check.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const DIR = path.join(ROOT, "test/programs/jump-hosts");
/** This machine's address on the tunnel host's link: what a direct connection would come from. */
const ROOT_SIDE = lab.thSshAddr.replace(/\d+$/, "1");
const accepted = (from: string) => new RegExp(`Accepted publickey for ${lab.thUser} from ${from.replace(/\./g, "\\.")} port`);

const bastion = (key: boolean): HopConfig => ({
  host: lab.jump.addr,
  port: lab.jump.port,
  user: lab.jump.user,
  hostKey: lab.jump.hostKey,
  ...(key ? { privateKeyFile: lab.jump.key } : {}),
});
const gatewayHop: HopConfig = { host: lab.gwAddr, user: lab.gwUser, hostKey: lab.gwHostKey, privateKeyFile: lab.gwKey };

function config(port: number, tunnelHost: string, hops: HopConfig[], more: Record<string, string> = {}): Record<string, string> {
  return {
    tunnelHost,
    tunnelHostUser: lab.thUser,
    tunnelHostKey: lab.thHostKey,
    tunnelHostKeyFile: lab.thKey,
    jumpHosts: JSON.stringify(hops),
    ...labGatewayConfig(lab),
    bindAddress: lab.thTrusted,
    bindPort: String(port),
    ...more,
  };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop() as string);

describe("through one bastion, then two hops", () => {
  const stack = new TestStack("it-jump", undefined, DIR);
  afterAll(() => stack.run("destroy"));
  let first: Record<string, unknown> = {};

  test("through the bastion: the forward works, the tunnel host saw the provider come from the bastion, no hop key in state", async () => {
    const log = thSshdLogFromNow(lab);
    // The tunnel host's address on the gateway's link: the bastion (on the tunnel host) reaches it
    // as a local address, the gateway over its link; the root namespace has no route to it.
    const up = await stack.run("up", config(8530, lab.thBehindGw, [bastion(true)]));
    expect(up.exitCode).toBe(0);
    first = lastJson(up.stdout);
    expect(await fetchFrom(lab.nsTh, first.url as string)).toBe("internal service reached");
    expect(log()).toMatch(accepted(lab.thBehindGw));
    expect(log()).not.toMatch(accepted(ROOT_SIDE));
    // The bastion's key went in by value, as a plain string: the provider keeps it secret in state.
    const keyLines = readFileSync(lab.jump.key, "utf8")
      .split("\n")
      .filter((l) => l.length >= 40 && !l.startsWith("-----"));
    expect(keyLines.length).toBeGreaterThan(0);
    const state = stack.storedState();
    expect(state).toContain("ciphertext");
    for (const line of keyLines) expect(state).not.toContain(line.slice(0, 40));
  });

  test("another hop in front of the same tunnel host is an update: preview says so, the forward keeps its pid, and the provider now arrives from the gateway", async () => {
    const twoHops = config(8530, lab.thBehindGw, [bastion(true), gatewayHop]);
    const preview = await stack.run("preview", twoHops);
    expect(preview.exitCode).toBe(0);
    expect(lastJson(preview.stdout)).toEqual({ update: 1, same: 1 });
    const log = thSshdLogFromNow(lab);
    const up = await stack.run("up", twoHops);
    expect(up.exitCode).toBe(0);
    const updated = lastJson(up.stdout);
    expect(updated.pid).toBe(first.pid);
    expect(updated.tag).toBe(first.tag);
    expect(await fetchFrom(lab.nsTh, updated.url as string)).toBe("internal service reached");
    expect(log()).toMatch(accepted(lab.gwAddr));
    expect(log()).not.toMatch(accepted(ROOT_SIDE));
  });

  test("destroy goes through the hops too and leaves nothing", async () => {
    const log = thSshdLogFromNow(lab);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    expect(log()).toMatch(accepted(lab.gwAddr));
    await expectNothingLeftOnTunnelHost(lab, `.${stack.name}.`);
  });
});

test("a GatedTunnel through two hops: its rule and its forward are made through them, the trusted client gets in, the untrusted one does not, destroy leaves nothing", async () => {
  const stack = new TestStack("it-jump-gated", undefined, DIR);
  try {
    const log = thSshdLogFromNow(lab);
    const up = await stack.run("up", config(8534, lab.thBehindGw, [bastion(true), gatewayHop], { sources: JSON.stringify([lab.trustedCidr]) }));
    expect(up.exitCode).toBe(0);
    const out = lastJson(up.stdout);
    expect(await fetchFrom(lab.nsTc, out.url)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, out.url)).toBeUndefined();
    expect(await tunnelHostUfwRules(lab)).toContain(out.ruleTag);
    expect(log()).toMatch(accepted(lab.gwAddr));
    expect(log()).not.toMatch(accepted(ROOT_SIDE));
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, `.${stack.name}.`);
  } finally {
    await stack.run("destroy");
  }
});

test("a wrong host key on hop 2 fails naming that hop, and nothing is left on the tunnel host", async () => {
  const stack = new TestStack("it-jump-badkey", undefined, DIR);
  try {
    const log = thSshdLogFromNow(lab);
    const up = await stack.run("up", config(8532, lab.thBehindGw, [bastion(true), { ...gatewayHop, hostKey: lab.jump.hostKey }]));
    expect(up.exitCode).not.toBe(0);
    const said = up.stdout + up.stderr;
    expect(said).toContain(
      `connect to jump host 2 of 2 (${lab.gwAddr}:22) on ${lab.gwUser}@${lab.gwAddr}:22 failed: host key mismatch: the host key it offered does not match connection.jumpHosts[1].hostKey`,
    );
    expect(said).toContain("hint: check you are reaching the right host");
    expect(log()).not.toMatch(/Accepted publickey/);
    await expectNothingLeftOnTunnelHost(lab, `.${stack.name}.`);
  } finally {
    await stack.run("destroy");
  }
});

test("certificate, hostCertificateAuthority and agentSocket on the connection or a hop fail check, each named", async () => {
  const stack = new TestStack("it-jump-check", undefined, DIR);
  const extra = { certificate: "ssh-ed25519-cert-v01@openssh.com AAAA", hostCertificateAuthority: lab.thHostKey, agentSocket: "/run/agent.sock" };
  const preview = await stack.run(
    "preview",
    config(8533, lab.thBehindJump, [{ ...bastion(true), certificate: "/etc/ssh/hop-cert.pub" }], { connectionExtra: JSON.stringify(extra) }),
  );
  expect(preview.exitCode).not.toBe(0);
  const said = preview.stdout + preview.stderr;
  for (const property of [
    "connection.certificate",
    "connection.hostCertificateAuthority",
    "connection.agentSocket",
    "connection.jumpHosts[0].certificate",
  ]) {
    expect(said).toMatch(new RegExp(`property ${property.replace(/[.[\]]/g, "\\$&")} value .* has a problem: is not supported here`));
  }
  expect(said).toMatch(/use a plain key \(or connection\.agent\) here, and certificates on the gateway side/);
});

describe("an ssh-agent instead of keys", () => {
  const stack = new TestStack("it-jump-agent", undefined, DIR);
  const dir = mkdtempSync(path.join(tmpdir(), "pst-agent-"));
  const sock = path.join(dir, "agent.sock");
  let agent: ChildProcess;
  /** `pulumi <command>` with SSH_AUTH_SOCK set to `authSock`, or unset. */
  const withAuthSock = (authSock: string | undefined, command: "up" | "destroy", cfg: Record<string, string> = {}) =>
    local.run([...(authSock ? ["env", `SSH_AUTH_SOCK=${authSock}`] : ["env", "-u", "SSH_AUTH_SOCK"]), ...stack.commandLine(command, cfg)], {
      timeoutMs: 300_000,
    });
  // No key for the tunnel host or the bastion: both come from the agent.
  const agentConfig = (agentInput: string) => {
    const { tunnelHostKeyFile: _, ...rest } = config(8531, lab.thBehindJump, [bastion(false)], { agent: agentInput });
    return rest;
  };

  beforeAll(async () => {
    agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    expect(await waitFor(async () => existsSync(sock) || undefined, 10_000)).toBe(true);
    const added = await local.run(["env", `SSH_AUTH_SOCK=${sock}`, "ssh-add", lab.thKey, lab.jump.key]);
    expect(added.exitCode).toBe(0);
  });
  afterAll(async () => {
    await withAuthSock(sock, "destroy");
    agent.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  let first: Record<string, unknown> = {};
  test("an agent socket path: the tunnel host and the bastion authenticate from it", async () => {
    const log = thSshdLogFromNow(lab);
    const up = await withAuthSock(undefined, "up", agentConfig(sock));
    expect(up.exitCode).toBe(0);
    first = lastJson(up.stdout);
    expect(await fetchFrom(lab.nsTh, first.url as string)).toBe("internal service reached");
    expect(log()).toMatch(accepted("127.0.0.1"));
  });

  test("agent: true reads SSH_AUTH_SOCK of the process running pulumi: unset, it fails saying so; set, the same forward is kept", async () => {
    const unset = await withAuthSock(undefined, "up", agentConfig("true"));
    expect(unset.exitCode).not.toBe(0);
    expect(unset.stdout + unset.stderr).toContain("connection.agent is true, but SSH_AUTH_SOCK is not set for the process running pulumi");
    const set = await withAuthSock(sock, "up", agentConfig("true"));
    expect(set.exitCode).toBe(0);
    expect(lastJson(set.stdout).pid).toBe(first.pid);
    expect(await fetchFrom(lab.nsTh, first.url as string)).toBe("internal service reached");
  });
});
