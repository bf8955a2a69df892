import { buildForwardArgv } from "../../../provider/ssh/forward-argv";
import { buildHopConfig, hopProxyCommand, type JumpChain } from "../../../provider/ssh/hop-config";
import { planGateway } from "../../../provider/tunnel/gateway-plan";
import { allTunnelFileNames } from "../../../provider/tunnel/tunnel-files";
import type { GatewayArgs } from "../../../provider/types";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA";
const DIR = "/run/pulumi-shared-tunnel";
const TAG = "pst.p.s.n.0123456789ab.1700000000";
const gateway: GatewayArgs = {
  host: "198.18.9.2",
  user: "gw",
  privateKeyPath: "/keys/gw",
  hostKey: KEY,
  jumpHosts: [
    { host: "198.18.7.2", user: "jump", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n", privateKeyPassphrase: "p", hostKey: KEY },
    {
      host: "2001:db8:8::2",
      port: 2222,
      user: "jump",
      agentSocket: "/run/agent.sock",
      certificate: "/certs/j2-cert.pub",
      hostCertificateAuthority: KEY,
    },
  ],
};
const gw = planGateway(gateway, 15, DIR, TAG);
const chain = gw.jump as JumpChain;
const config = buildHopConfig(chain);
const block = (n: number) => config.split(/^Host /m)[n];

test("the forward keeps -F none and reaches the gateway through the last hop, logging that hop's ssh under the tag", () => {
  const argv = buildForwardArgv({
    gateway: gw,
    bindAddress: "198.51.100.40",
    bindPort: 8080,
    target: { host: "127.0.0.1", port: 8000 },
    keepAliveSeconds: 15,
    logFile: `${DIR}/${TAG}.log`,
  });
  expect(argv[argv.indexOf("-F") + 1]).toBe("none");
  const proxy = argv.find((a) => a.startsWith("ProxyCommand="));
  expect(proxy).toBe(`ProxyCommand='ssh' '-F' '${DIR}/${TAG}.ssh_config' '-E' '${DIR}/${TAG}.hop2.log' '-W' '[%h]:%p' '--' '${TAG}.hop2'`);
});

test("every hop is pinned with its own known_hosts and nothing from ~/.ssh or the caller's agent", () => {
  for (const n of [1, 2]) {
    expect(block(n)).toContain(`  StrictHostKeyChecking "yes"`);
    expect(block(n)).toContain(`  UserKnownHostsFile "${DIR}/${TAG}.hop${n}.known_hosts"`);
    expect(block(n)).toContain(`  GlobalKnownHostsFile "/dev/null"`);
    expect(block(n)).toContain(`  ControlMaster "no"`);
    expect(block(n)).toContain(`  ForwardAgent "no"`);
  }
  expect(block(1)).toContain(`  IdentityAgent "none"`);
  expect(block(1)).toContain(`  IdentityFile "${DIR}/${TAG}.hop1.key"`);
  expect(block(1)).toContain(`  BatchMode "no"`);
  expect(block(1)).toContain("  ProxyCommand none");
  expect(block(2)).toContain(`  IdentityAgent "/run/agent.sock"`);
  expect(block(2)).toContain(`  IdentityFile "/dev/null"`);
  expect(block(2)).toContain(`  IdentitiesOnly "no"`);
  expect(block(2)).toContain(`  CertificateFile "/certs/j2-cert.pub"`);
  expect(block(2)).toContain(`  HostName "2001:db8:8::2"`);
  expect(block(2)).toContain(`  Port "2222"`);
});

test("hop 2 is reached through hop 1, whose ssh gets hop 1's askpass and logs to hop 1's log", () => {
  expect(block(2)).toContain(`  ProxyCommand ${hopProxyCommand(chain, 1)}`);
  expect(hopProxyCommand(chain, 1)).toBe(
    `'env' 'SSH_ASKPASS=${DIR}/${TAG}.hop1.askpass' 'SSH_ASKPASS_REQUIRE=force' 'ssh' '-F' '${DIR}/${TAG}.ssh_config' '-E' '${DIR}/${TAG}.hop1.log' '-W' '[%h]:%p' '--' '${TAG}.hop1'`,
  );
});

test("a value ssh_config would split or expand is never written", () => {
  const bad = { ...chain, hops: [{ ...chain.hops[0], identityFile: "/keys/a b" }] };
  expect(() => buildHopConfig(bad)).toThrow(/cannot be written/);
});

test("every file a chain uses is one removal and the watchdog know by name", () => {
  const names = allTunnelFileNames(TAG).map((n) => `${DIR}/${n}`);
  const used = [
    chain.configFile,
    ...chain.hops.flatMap((h) =>
      [h.knownHostsFile, h.logFile, h.identityFile, h.askpassFile].filter((f): f is string => f?.startsWith(DIR) ?? false),
    ),
  ];
  expect(names).toEqual(expect.arrayContaining(used));
});
