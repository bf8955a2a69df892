import type { Runner } from "../host/runner";
import { checkAgentSockets } from "../ssh/agent-socket";
import { checkCertificates, type CertificateToCheck } from "../ssh/certificate-validity";
import { knownHostsLine, type GatewayEndpoint } from "../ssh/forward-argv";
import { buildHopConfig } from "../ssh/hop-config";
import { isCertificatePath, planGateway, targetOf } from "./gateway-plan";
import type { SshLogin } from "../ssh/login-options";
import { checkBindAddress, checkPortFree, readBindTable } from "../listener/bind-checks";
import { checkGatewayPath } from "../ssh/preflight";
import { clearHopLogs } from "../ssh/diagnose-hops";
import { checkSocketPath } from "../ssh/socket-preflight";
import { checkUnlessRecent } from "../ssh/recent-checks";
import { makeTag, ownerPrefix } from "../tag";
import type { GatewayArgs, JumpHostArgs, TunnelInputs } from "../types";
import { normalizeHostKey } from "../validation/fields";
import { writePrivateFiles, type PrivateFile } from "../state/private-file";
import { stateDir } from "../state/state-dir";
import { findForwards } from "./reap-orphans";
import { hopFileNames, hopFiles, removeTunnelFiles, removeTunnelFilesOf, tunnelFiles, askpassFiles } from "./tunnel-files";

/** Writes what planGateway says ssh needs, and returns the endpoint. */
async function prepareGateway(runner: Runner, inputs: TunnelInputs, tag: string): Promise<GatewayEndpoint> {
  const { gw, files } = await planGatewayFiles(runner, inputs, tag);
  await writePrivateFiles(runner, files);
  return gw;
}

/**
 * What ssh needs to reach the gateway from the tunnel host under `tag` (pinned known_hosts, the key
 * and certificate when given by value, an askpass for a passphrase), the same for each jump host
 * plus their private config, as files to write (in one command, with whatever else the caller
 * writes then), once expired certificates and agent sockets another user could have placed are
 * refused; and the endpoint.
 */
export async function planGatewayFiles(runner: Runner, inputs: TunnelInputs, tag: string): Promise<{ gw: GatewayEndpoint; files: PrivateFile[] }> {
  const dir = await stateDir(runner);
  const gw = planGateway(inputs.gateway, inputs.keepAliveSeconds ?? 15, dir, tag);
  const hops = inputs.gateway.jumpHosts ?? [];
  await checkCertificates(
    runner,
    [certificateOf(inputs.gateway, "gateway"), ...hops.map((h, i) => certificateOf(h, `gateway.jumpHosts[${i}]`))].filter((c) => c !== undefined),
  );
  const logins: [JumpHostArgs | GatewayArgs, string][] = [
    [inputs.gateway, "gateway"],
    ...hops.map((h, i): [JumpHostArgs, string] => [h, `gateway.jumpHosts[${i}]`]),
  ];
  await checkAgentSockets(
    runner,
    logins.flatMap(([l, p]) => (l.agentSocket !== undefined ? [{ property: `${p}.agentSocket`, path: l.agentSocket }] : [])),
  );
  const files = [
    ...loginFiles(inputs.gateway, gw, tunnelFiles(dir, tag)),
    ...hops.flatMap((hop, i) => loginFiles(hop, gw.jump!.hops[i], hopFiles(dir, tag, i + 1))),
    ...(gw.jump ? [{ path: gw.jump.configFile, content: buildHopConfig(gw.jump) }] : []),
  ];
  return { gw, files };
}

type LoginFiles = Omit<ReturnType<typeof hopFileNames>, "logFile">;

/** One login's files (known_hosts, key, certificate, passphrase and askpass), each written or rewritten by rename. */
function loginFiles(args: JumpHostArgs | GatewayArgs, login: SshLogin, files: LoginFiles): PrivateFile[] {
  const ca = args.hostCertificateAuthority;
  const knownHosts = knownHostsLine(login.host, login.port, normalizeHostKey(ca ?? (args.hostKey as string)), ca !== undefined);
  return [
    { path: files.knownHostsFile, content: knownHosts },
    ...(args.privateKey !== undefined ? [{ path: files.keyFile, content: withNewline(args.privateKey) }] : []),
    ...(args.privateKeyPassphrase !== undefined ? askpassFiles(files, args.privateKeyPassphrase) : []),
    ...(args.certificate !== undefined && login.certificateFile === files.certFile
      ? [{ path: files.certFile, content: withNewline(args.certificate.trim()) }]
      : []),
  ];
}

/** A login's certificate to check: the file when given by path, else the value itself. */
function certificateOf(args: JumpHostArgs | GatewayArgs, property: string): CertificateToCheck | undefined {
  if (args.certificate === undefined) return undefined;
  const where = isCertificatePath(args.certificate) ? { file: args.certificate } : { content: withNewline(args.certificate.trim()) };
  return { property: `${property}.certificate`, ...where };
}

/**
 * On update: the files of a running forward follow the gateway's new credentials (pins, keys,
 * certificates, passphrases, for the gateway and each hop), each rewritten by rename, since they
 * stay for the forward's life and a restart must use the current ones. Files no longer used go.
 * The running ssh has authenticated and is untouched.
 */
export async function rewriteGatewayFiles(runner: Runner, inputs: TunnelInputs, tag: string): Promise<GatewayEndpoint> {
  const gw = await prepareGateway(runner, inputs, tag);
  const dir = await stateDir(runner);
  const files = tunnelFiles(dir, tag);
  const logins: [SshLogin, LoginFiles][] = [
    [gw, files],
    ...(gw.jump?.hops ?? []).map((h, i) => [h, hopFiles(dir, tag, i + 1)] as [SshLogin, LoginFiles]),
  ];
  const unused = logins.flatMap(([login, f]) => [
    ...(login.identityFile !== f.keyFile ? [f.keyFile] : []),
    ...(login.askpassFile === undefined ? [f.passFile, f.askpassFile] : []),
    ...(login.certificateFile !== f.certFile ? [f.certFile] : []),
  ]);
  if (unused.length > 0) await runner.run(["rm", "-f", "--", ...unused]);
  return gw;
}

/**
 * The preflight checks, cheapest first: bind address, free port, then the path through the
 * gateway (that one reused when the same path passed moments ago: see recent-checks.ts).
 * `beforeCheck` runs only when the path is checked (it writes the files that check uses: fifty
 * tunnels through one gateway write them once, not fifty times).
 */
export async function runPreflight(
  runner: Runner,
  inputs: TunnelInputs,
  gw: GatewayEndpoint,
  tag: string,
  options: { ours?: readonly number[]; beforeCheck?: () => Promise<void> } = {},
): Promise<void> {
  const table = await readBindTable(runner);
  checkBindAddress(runner, table, inputs.bindAddress);
  await checkPortFree(runner, table, inputs.bindAddress, inputs.bindPort, options.ours ?? []);
  const target = targetOf(inputs);
  // The whole gateway (hops, pins, credentials): the subject is hashed, never kept as it is.
  const path = { where: runner.where, gateway: inputs.gateway, target };
  const dir = await stateDir(runner);
  const probe = { dir, tag, log: tunnelFiles(dir, tag).probeLog };
  await checkUnlessRecent(path, async () => {
    await options.beforeCheck?.();
    return "socket" in target ? checkSocketPath(runner, gw, target.socket, probe) : checkGatewayPath(runner, gw, target.host, target.port);
  });
  // The forward starts with fresh hop logs: a failure to start is then read from its own lines only.
  await clearHopLogs(runner, gw);
}

/**
 * A tunnel's preflight on its own, with files of its own that are removed afterwards: GatedTunnel
 * runs it before its rule goes in, so a tunnel that cannot start leaves no rule behind. It runs in
 * the rule's create, when the state holds nothing of that resource: files under its owner prefix
 * were left by an earlier create killed mid-preflight (the gateway key among them), and go first.
 * The port may be held by the forward the rule gates (`gatesForwardsOf`), left without its gate
 * (a state that lost the rule): that forward is ours, and the rule going in puts its gate back.
 * `alsoSweep`: suffixes of other files of that owner prefix to remove in the same command.
 */
export async function preflightTunnel(
  runner: Runner,
  inputs: TunnelInputs,
  gatesForwardsOf?: string,
  alsoSweep: readonly string[] = [],
): Promise<void> {
  await removeTunnelFilesOf(runner, ownerPrefix(inputs), alsoSweep);
  const tag = makeTag(inputs, new Date());
  const ours = gatesForwardsOf ? await findForwards(runner, gatesForwardsOf) : [];
  const { gw, files } = await planGatewayFiles(runner, inputs, tag);
  // Only a check that runs needs the files (and writes them); a failed write may have left some.
  let written = false;
  try {
    await runPreflight(runner, inputs, gw, tag, { ours, beforeCheck: () => ((written = true), writePrivateFiles(runner, files)) });
  } finally {
    if (written) await removeTunnelFiles(runner, tag);
  }
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
