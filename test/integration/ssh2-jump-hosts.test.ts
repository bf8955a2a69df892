import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { acquireRemote, closeAllConnections } from "../../provider/host/connection-pool";
import { silent } from "../../provider/host/report";
import { LocalRunner } from "../../provider/host/local-runner";
import { Ssh2Runner } from "../../provider/host/ssh2-runner";
import { waitFor } from "../../provider/state/wait-for";
import { inNs, readLab } from "../support/lab";
import { bastion, established, gatewayHop, settlesTo, viaBastion, viaBastionAndGateway } from "../support/jump-hosts";

/**
 * The provider's own connection through jump hosts, against the lab's bastion and gateway: where
 * the tunnel host sees it come from, each hop pinned and authenticated on its own, errors naming
 * the hop, and nothing of the chain left open once the connection is closed or has failed.
 */
jest.setTimeout(60_000);

const lab = readLab();

/** Connections open on the bastion's port and on the gateway's sshd: the chain's footprint. */
async function footprint(): Promise<[number, number]> {
  return [(await established(lab.nsTh, lab.jump.port)).length, (await established(lab.nsGw, 22)).length];
}

/** After `work`, the bastion and the gateway hold no more connections than before. */
async function leavesNothingOpen(work: () => Promise<void>): Promise<void> {
  const [onBastion, onGateway] = await footprint();
  await work();
  expect(await settlesTo(lab.nsTh, lab.jump.port, onBastion)).toBe(onBastion);
  expect(await settlesTo(lab.nsGw, 22, onGateway)).toBe(onGateway);
}

test.each([
  ["one jump host (the bastion)", () => viaBastion(lab), "127.0.0.1"],
  ["two jump hosts (the bastion, then the gateway)", () => viaBastionAndGateway(lab), lab.gwAddr],
])("through %s: the tunnel host sees the connection come from the last hop; closing it closes every hop", async (_how, conn, from) => {
  await leavesNothingOpen(async () => {
    const ssh = await Ssh2Runner.connect(conn());
    try {
      expect(ssh.where).toContain(" via ");
      // sshd's own word on where the client is: "<client addr> <client port> <server addr> <server port>".
      const seen = (await ssh.run(["sh", "-c", "echo $SSH_CONNECTION"])).stdout.split(" ");
      expect([seen[0], seen[2]]).toEqual([from, conn().host]);
      expect((await ssh.run(["id", "-un"])).stdout).toBe("root\n");
      // While open, the chain holds its connection on the bastion.
      expect((await established(lab.nsTh, lab.jump.port)).length).toBeGreaterThan(0);
    } finally {
      await ssh.close();
    }
  });
});

test("a wrong host key on hop 2 fails naming that hop, its address and the property; hop 1 is closed again", async () => {
  await leavesNothingOpen(async () => {
    const conn = { ...viaBastionAndGateway(lab), jumpHosts: [bastion(lab), { ...gatewayHop(lab), hostKey: lab.jump.hostKey }] };
    const err = await Ssh2Runner.connect(conn).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String(err)).toMatch(
      new RegExp(
        `connect to jump host 2 of 2 \\(${lab.gwAddr.replace(/\./g, "\\.")}:22\\) on ${lab.gwUser}@${lab.gwAddr.replace(/\./g, "\\.")}:22 failed: host key mismatch: the host key it offered does not match connection\\.jumpHosts\\[1\\]\\.hostKey`,
      ),
    );
    expect(String(err)).toMatch(/hint: check you are reaching the right host/);
  });
});

test("a hop authenticates with its own key only: the bastion refuses the tunnel host's key, named as hop 1", async () => {
  await leavesNothingOpen(async () => {
    const conn = { ...viaBastion(lab), jumpHosts: [{ ...bastion(lab), privateKeyPath: lab.thKey }] };
    await expect(Ssh2Runner.connect(conn)).rejects.toThrow(/connect to jump host 1 of 1 \(.*:2222\) on .*jb@.*:2222 failed: the key was refused/);
  });
});

test("a hop that will not forward to the next one fails naming both, with a hint", async () => {
  await leavesNothingOpen(async () => {
    // The bastion's PermitOpen admits the tunnel host's loopback sshd and the gateway only.
    const conn = { ...viaBastion(lab), host: "127.0.0.2" };
    await expect(Ssh2Runner.connect(conn)).rejects.toThrow(
      /open a channel from jump host 1 of 1 \(.*:2222\) to the tunnel host on .* failed: \(SSH\) Channel open failure[\s\S]*hint: check that .*jb may forward TCP there/,
    );
  });
});

test("a next hop that accepts but never speaks ssh fails within connectTimeoutSeconds, naming it", async () => {
  // A silent listener behind the gateway; the bastion reaches the gateway, the gateway reaches it.
  const script = "setTimeout(() => process.exit(0), 30000); require('net').createServer(() => {}).listen(2299, '127.0.0.1')";
  const silent = inNs(lab.nsGw, [process.execPath, "-e", script], 40_000);
  try {
    expect(await waitFor(async () => (await established(lab.nsGw, 2299, "listening")).length || undefined, 10_000)).toBe(1);
    const conn = { ...viaBastionAndGateway(lab), host: "127.0.0.1", port: 2299, connectTimeoutSeconds: 2 };
    const started = Date.now();
    await expect(Ssh2Runner.connect(conn)).rejects.toThrow(
      /connect to the tunnel host on root@127\.0\.0\.1:2299 failed: Timed out while waiting for handshake/,
    );
    expect(Date.now() - started).toBeLessThan(8_000);
  } finally {
    await inNs(lab.nsGw, ["pkill", "-f", "listen\\(2299, '127.0.0.1'\\)"]);
    await silent;
  }
});

test("a hop's key may be encrypted: its own passphrase opens it; a wrong one is named as that hop's", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-hop-key-"));
  try {
    const copy = path.join(dir, "bastion_key");
    copyFileSync(lab.jump.key, copy);
    expect((await new LocalRunner().run(["ssh-keygen", "-q", "-p", "-P", "", "-N", "hop one pass", "-f", copy])).exitCode).toBe(0);
    const hop = { ...bastion(lab), privateKey: readFileSync(copy, "utf8"), privateKeyPath: undefined };
    const ssh = await Ssh2Runner.connect({ ...viaBastion(lab), jumpHosts: [{ ...hop, privateKeyPassphrase: "hop one pass" }] });
    try {
      expect((await ssh.run(["id", "-un"])).stdout).toBe("root\n");
    } finally {
      await ssh.close();
    }
    await expect(Ssh2Runner.connect({ ...viaBastion(lab), jumpHosts: [{ ...hop, privateKeyPassphrase: "wrong" }] })).rejects.toThrow(
      /connect to jump host 1 of 1 \(.*:2222\) on .*jb@.*:2222 failed: cannot use the private key of connection\.jumpHosts\[0\]: .*bad or missing passphrase[\s\S]*hint: check connection\.jumpHosts\[0\]\.privateKeyPassphrase/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the shared pool keys on the whole chain: the same host and user through a bastion is another connection", async () => {
  const direct = { host: lab.thSshAddr, user: lab.thUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey };
  const [a, b, c] = await Promise.all([
    acquireRemote(direct, silent),
    acquireRemote({ ...direct, jumpHosts: [{ ...bastion(lab) }], host: lab.thBehindJump }, silent),
    acquireRemote({ ...viaBastion(lab) }, silent),
  ]);
  try {
    expect(a.where).toBe(`${lab.thUser}@${lab.thSshAddr}:22`);
    expect(b.where).toBe(`${lab.thUser}@${lab.thBehindJump}:22 via ${lab.jump.user}@${lab.jump.addr}:${lab.jump.port}`);
    // The same chain again shares b's connection: one session seen from one client port.
    const ports = await Promise.all([b, c].map(async (r) => (await r.run(["sh", "-c", "echo $SSH_CONNECTION"])).stdout.split(" ")[1]));
    expect(ports[0]).toBe(ports[1]);
  } finally {
    await Promise.all([a, b, c].map((r) => r.close()));
    await closeAllConnections(1000);
  }
});
