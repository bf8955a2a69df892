import { readFileSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../provider/host/local-runner";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { fetchFrom, inNs, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { demoConfig } from "../support/demo-config";
import { TestStack } from "../support/stack";

/**
 * Updates and replacements through real `pulumi up`, as a user changes a stack: sources change in
 * place (same pid), a new port replaces the tunnel, a rotated key is stored and used by destroy,
 * and secrets never reach the state in plaintext.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();

function config(overrides: Record<string, string>): Record<string, string> {
  return demoConfig(lab, { bindPort: "8090", ...overrides });
}

describe("a stack changed over its life", () => {
  const stack = new TestStack("it-life");
  const authorizedKeys = `${lab.dir}/th_authorized_keys`;
  const originalKeys = readFileSync(authorizedKeys, "utf8");
  let first: Record<string, unknown> = {};

  afterAll(async () => {
    writeFileSync(authorizedKeys, originalKeys);
    await stack.run("destroy");
  });

  test("a gateway key passed as a secret is used, kept out of state and outputs, and on the host only in root's private state directory", async () => {
    const gatewayKey = readFileSync(lab.gwKey, "utf8");
    const r = await stack.run("up", config({}), { gatewayKey });
    expect(r.exitCode).toBe(0);
    first = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    expect(await fetchFrom(lab.nsTc, first.url as string)).toBe("internal service reached");
    const keyBody = gatewayKey.split("\n")[1];
    const state = stack.storedState();
    expect(state).toContain("internal-service-forward");
    expect(state).toContain("ciphertext");
    expect(state).not.toContain(keyBody);
    expect(r.stdout + r.stderr).not.toContain(keyBody);
    // Inputs derived from a secret-bearing object must not turn secret themselves.
    expect(state).toMatch(/"port":\s*8090/);
    // The key stays for the forward's life (a restart needs it), private to root in /run.
    const files = (await inNs(lab.nsTh, ["sh", "-c", 'cd "$1" && stat -c "%a %U %n" -- "$2".*', "sh", ROOT_STATE_DIR, String(first.tunnelTag)]))
      .stdout;
    expect(files).toContain(`600 root ${String(first.tunnelTag)}.known_hosts`);
    expect(files).toContain(`600 root ${String(first.tunnelTag)}.key`);
  });

  test("changing sources updates the rule in place: same process, the new source gets in", async () => {
    // The untrusted client is admitted by address, the trusted one by a narrower range.
    const updated = await stack.ok("up", config({ sources: JSON.stringify(["198.51.100.50/32", "198.18.2.66"]) }));
    expect(updated.pid).toBe(first.pid);
    expect(updated.ruleTag).toBe(first.ruleTag);
    expect(await fetchFrom(lab.nsTc, updated.url as string)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, updated.url as string)).toBe("internal service reached");
    const rules = await tunnelHostUfwRules(lab);
    expect(rules).toContain("198.18.2.66");
    expect(rules).not.toContain(lab.trustedCidr);
  });

  test("changing the port replaces the tunnel: old listener gone, new one owned by a new ssh", async () => {
    const replaced = await stack.ok("up", config({ bindPort: "8091" }));
    expect(replaced.pid).not.toBe(first.pid);
    expect(replaced.url).toBe(`http://${lab.thTrusted}:8091/`);
    expect(await fetchFrom(lab.nsTc, replaced.url as string)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsTc, first.url as string)).toBeUndefined();
    expect(await fetchFrom(lab.nsUc, replaced.url as string)).toBeUndefined();
    expect(await sshProcessesWith(String(first.tunnelTag))).toEqual([]);
    first = replaced;
  });

  test("a rotated connection key is stored by an in-place update and used by destroy", async () => {
    const newKey = `${lab.dir}/rotated_tunnel_host_key`;
    await local.run(["rm", "-f", newKey, `${newKey}.pub`]);
    expect((await local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", newKey])).exitCode).toBe(0);
    writeFileSync(authorizedKeys, originalKeys + readFileSync(`${newKey}.pub`, "utf8"));
    const rotated = await stack.ok("up", config({ bindPort: "8091", tunnelHostKeyPath: newKey }));
    expect(rotated.pid).toBe(first.pid);
    // Retire the old key: only the stored new one can still reach the tunnel host.
    writeFileSync(authorizedKeys, readFileSync(`${newKey}.pub`, "utf8"));
    await stack.ok("destroy");
    // Nothing of the stack's whole life is left: neither this tunnel nor the ones it replaced.
    await expectNothingLeftOnTunnelHost(lab, `pst.shared-tunnel-demo.${stack.name}.`);
  });
});

test("IPv6: shared on the trusted interface's IPv6 address with an IPv6 source range", async () => {
  const stack = new TestStack("it-v6");
  try {
    const out = await stack.ok("up", config({ bindAddress: "2001:db8:100::40", bindPort: "8095", sources: JSON.stringify(["2001:db8:100::/64"]) }));
    expect(out.url).toBe("http://[2001:db8:100::40]:8095/");
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, out.url as string)).toBeUndefined();
    await stack.ok("destroy");
    await expectNothingLeftOnTunnelHost(lab, `pst.shared-tunnel-demo.${stack.name}.`);
  } finally {
    await stack.run("destroy");
  }
});

test("an encrypted gateway key with its passphrase (both secrets) starts the forward; neither is in state, argv or outputs, and both are private to root on the host", async () => {
  const stack = new TestStack("it-passphrase");
  const key = `${lab.dir}/encrypted_gateway_key`;
  const passphrase = "correct horse battery staple";
  const authorized = `${lab.dir}/gw-home/authorized_keys`;
  const original = readFileSync(authorized, "utf8");
  try {
    await local.run(["rm", "-f", key, `${key}.pub`]);
    expect((await local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", key])).exitCode).toBe(0);
    writeFileSync(authorized, original + readFileSync(`${key}.pub`, "utf8"));
    const r = await stack.run("up", config({ bindPort: "8092" }), { gatewayKey: readFileSync(key, "utf8"), gatewayKeyPassphrase: passphrase });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    expect(await fetchFrom(lab.nsTc, out.url)).toBe("internal service reached");
    expect(stack.storedState()).not.toContain(passphrase);
    expect(r.stdout + r.stderr).not.toContain(passphrase);
    const files = (await inNs(lab.nsTh, ["sh", "-c", 'cd "$1" && stat -c "%a %U %n" -- "$2".*', "sh", ROOT_STATE_DIR, String(out.tunnelTag)])).stdout;
    expect(files).toContain(`600 root ${out.tunnelTag}.pass`);
    expect(files).toContain(`700 root ${out.tunnelTag}.askpass`);
    const ps = await local.run(["ps", "-eo", "args"]);
    expect(ps.stdout).not.toContain(passphrase);
  } finally {
    writeFileSync(authorized, original);
    await stack.run("destroy");
  }
});
