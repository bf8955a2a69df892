import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../../provider/host/local-runner";
import { clearHopLogs, diagnoseThroughHops } from "../../../provider/ssh/diagnose-hops";
import { planGateway } from "../../../provider/tunnel/gateway-plan";

/** A failure through jump hosts is named after the nearest hop whose own log shows one. */
const local = new LocalRunner();
const dir = mkdtempSync(path.join(tmpdir(), "pst-unit-hops-"));
const hop = { user: "jump", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA" };
const gw = planGateway(
  {
    host: "198.18.9.2",
    user: "gw",
    privateKeyPath: "/k",
    hostKey: "ssh-ed25519 AAAA",
    jumpHosts: [
      { ...hop, host: "198.18.7.2" },
      { ...hop, host: "198.18.8.2" },
    ],
  },
  15,
  dir,
  "pst.t",
);
const where = { gateway: "198.18.9.2:22", target: "127.0.0.1:8000", listen: "" };
// What the gateway's own ssh says when a hop in front of it failed.
const closed = "kex_exchange_identification: Connection closed by remote host\nConnection closed by UNKNOWN port 65535";
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("hop 2's host key failure is named after hop 2, not the gateway", async () => {
  writeFileSync(`${dir}/pst.t.hop1.log`, "");
  writeFileSync(`${dir}/pst.t.hop2.log`, "Host key verification failed.\r\n");
  expect((await diagnoseThroughHops(local, gw, closed, where))?.cause).toMatch(
    /^the jump host gateway\.jumpHosts\[1\] \(198\.18\.8\.2:22\) offered a host key/,
  );
});

test("hop 1 unable to reach hop 2 names both", async () => {
  writeFileSync(`${dir}/pst.t.hop1.log`, "channel 0: open failed: connect failed: No route to host\r\nstdio forwarding failed\r\n");
  writeFileSync(`${dir}/pst.t.hop2.log`, closed);
  expect((await diagnoseThroughHops(local, gw, closed, where))?.cause).toBe(
    "the jump host gateway.jumpHosts[0] (198.18.7.2:22) could not open a connection to the jump host gateway.jumpHosts[1] (198.18.8.2:22) (forwarding refused there, or the jump host gateway.jumpHosts[1] (198.18.8.2:22) does not answer from it)",
  );
});

test("quiet hops: the gateway's own output is classified; cleared logs are gone", async () => {
  await clearHopLogs(local, gw);
  expect(existsSync(`${dir}/pst.t.hop1.log`)).toBe(false);
  expect((await diagnoseThroughHops(local, gw, "gw@198.18.9.2: Permission denied (publickey).", where))?.cause).toBe(
    "the gateway 198.18.9.2:22 refused the key",
  );
});
