import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { LEGACY_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { inNs, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { labTunnelHostAsUser } from "../support/lab-config";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * Issue 22, item 7 (in part): paths another local user can make are not taken for ours. The lab's
 * unprivileged user makes the legacy state directory (/tmp/pulumi-shared-tunnel, which anyone may
 * create on a host where it is gone) and runs a process posing as a forward started from it; and
 * it runs an ssh-agent at a socket path a stack names as `agentSocket`.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");
const asMal = (argv: string[]) => local.run(["runuser", "-u", lab.thMalUser, "--", ...argv], { timeoutMs: 30_000 });

test("a legacy state directory another user made is not searched: reap does not take that user's process for a forward of ours", async () => {
  const stack = "it-h22a-legacy";
  const tag = `pst.shared-tunnel-demo.${stack}.fake-forward.0123456789ab.${Math.floor(Date.now() / 1000) - 10}`;
  const bin = `${lab.thMalHome}/h22a-bin-${process.pid}`;
  // Named ssh (pgrep -x ssh), argv as our forwards carry it: "-E <legacy dir>/<tag>.log".
  const pose = 'mkdir -p "$1" && ln -sf /bin/sh "$1/ssh" && exec -a ssh "$1/ssh" -c "sleep 120; :" -E "$2" </dev/null >/dev/null 2>&1 &';
  expect(
    (await inNs(lab.nsTh, ["runuser", "-u", lab.thMalUser, "--", "bash", "-c", pose, "bash", bin, `${LEGACY_STATE_DIR}/${tag}.log`])).exitCode,
  ).toBe(0);
  const pid = await waitFor(
    async () => (await local.run(["pgrep", "-x", "-f", `ssh -c sleep 120; : -E ${LEGACY_STATE_DIR}/${tag}.log`])).stdout.trim() || undefined,
    10_000,
  );
  expect(pid).toMatch(/^\d+$/);
  try {
    // The legacy directory is shared by every lab on this machine: the user's own is made in a
    // mount namespace of this test (a fresh /tmp), where root then runs reap in local mode. A
    // checkout under /tmp (CI clones anywhere) is bound back into the fresh /tmp, so reap and its
    // Node are still there; the old /tmp stays reachable at /mnt inside the namespace alone.
    const inOwnTmp = [
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      [
        "mount --bind /tmp /mnt && mount -t tmpfs -o mode=1777 pst-h22a /tmp",
        'case "$3" in /tmp/*) mkdir -p "$3" && mount --bind "/mnt/${3#/tmp/}" "$3" ;; esac',
        'runuser -u "$1" -- mkdir -m 755 "$2" && shift 3 && exec "$@"',
      ].join(" && "),
      "sh",
      lab.thMalUser,
      LEGACY_STATE_DIR,
      ROOT,
    ];
    const r = await local.run([...inOwnTmp, "ip", "netns", "exec", lab.nsTh, process.execPath, REAP, "reap", "--dry-run", "--stack", stack], {
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("nothing of ours found\n");
  } finally {
    // Its sleep first (the pose's own child), then the pose itself.
    await local.run(["pkill", "-P", String(pid)]);
    await local.run(["kill", String(pid)]);
    await local.run(["rm", "-rf", "--", bin]);
  }
});

describe("an agentSocket another user's agent answers on", () => {
  const stack = new TestStack("it-h22a-agent", undefined, path.join(ROOT, "test/programs/gateway-paths"));
  const dir = `${lab.thMalHome}/h22a-agent-${process.pid}`;
  const sock = `${dir}/agent.sock`;
  let agentPid = "";
  beforeAll(async () => {
    // The user's own agent, holding the very key the gateway accepts: the login would succeed.
    expect((await asMal(["mkdir", "-m", "700", dir])).exitCode).toBe(0);
    expect((await local.run(["install", "-m", "600", "-o", lab.thMalUser, lab.gwKey, `${dir}/key`])).exitCode).toBe(0);
    const started = await asMal(["ssh-agent", "-a", sock]);
    agentPid = /SSH_AGENT_PID=(\d+);/.exec(started.stdout)?.[1] ?? "";
    expect(agentPid).toMatch(/^\d+$/);
    expect((await asMal(["env", `SSH_AUTH_SOCK=${sock}`, "ssh-add", "-q", `${dir}/key`])).exitCode).toBe(0);
  });
  afterAll(async () => {
    await stack.run("destroy");
    if (agentPid) await local.run(["kill", agentPid]);
    await local.run(["rm", "-rf", "--", dir]);
  });

  test("is refused before anything starts, naming the input, the socket's owner and the fix", async () => {
    const config = {
      ...labTunnelHostAsUser(lab),
      bindAddress: lab.thTrusted,
      bindPort: "8196",
      sources: JSON.stringify([lab.trustedCidr]),
      targetHost: lab.targetHost,
      targetPort: String(lab.targetPort),
    };
    const gateway = { host: lab.gwAddr, user: lab.gwUser, agentSocket: sock, hostKey: lab.gwHostKey };
    const r = await stack.run("up", config, { gateway: JSON.stringify(gateway) });
    expect(r.stderr).toMatch(
      new RegExp(
        `check the agent socket on .* failed: gateway\\.agentSocket: ${sock.replace(/\./g, "\\.")} is a socket owned by ${lab.thMalUser} \\(uid \\d+\\)`,
      ),
    );
    expect(r.stderr).toMatch(/hint: use an agent started by root or the connection user/);
    expect(r.exitCode).not.toBe(0);
    expect(await sshProcessesWith("pst.gateway-paths.it-h22a-agent.")).toEqual([]);
    await expectNothingLeftOnTunnelHost(lab, "pst.gateway-paths.it-h22a-agent.");
  });
});
