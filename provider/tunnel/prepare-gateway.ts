import type { Runner } from "../host/runner";
import { knownHostsLine, type GatewayEndpoint } from "../ssh/forward-argv";
import { checkBindAddress, checkGatewayPath, checkPortFree } from "../ssh/preflight";
import { checkUnlessRecent } from "../ssh/recent-checks";
import { makeTag, ownerPrefix } from "../tag";
import type { TunnelInputs } from "../types";
import { normalizeHostKey } from "../validation/fields";
import { writePrivateFile } from "../state/private-file";
import { stateDir } from "../state/state-dir";
import { removeTunnelFiles, removeTunnelFilesOf, tunnelFiles, writeAskpass } from "./tunnel-files";

/**
 * Writes what ssh needs to reach the gateway from the tunnel host (pinned known_hosts, the key
 * when given by value, an askpass for its passphrase) under `tag`, and returns the endpoint.
 */
export async function prepareGateway(runner: Runner, inputs: TunnelInputs, tag: string): Promise<GatewayEndpoint> {
  const files = tunnelFiles(await stateDir(runner), tag);
  const gw: GatewayEndpoint = {
    host: inputs.gateway.host,
    port: inputs.gateway.port ?? 22,
    user: inputs.gateway.user,
    identityFile: inputs.gateway.privateKey !== undefined ? files.keyFile : (inputs.gateway.privateKeyPath as string),
    knownHostsFile: files.knownHostsFile,
  };
  await writePrivateFile(runner, files.knownHostsFile, knownHostsLine(gw.host, gw.port, normalizeHostKey(inputs.gateway.hostKey)));
  if (inputs.gateway.privateKey !== undefined) await writePrivateFile(runner, files.keyFile, withNewline(inputs.gateway.privateKey));
  if (inputs.gateway.privateKeyPassphrase !== undefined) gw.askpassFile = await writeAskpass(runner, files, inputs.gateway.privateKeyPassphrase);
  return gw;
}

/**
 * On update: the files of a running forward follow the gateway's new credentials (pin, key,
 * passphrase), each rewritten by rename, since the key and passphrase stay for the forward's life
 * and a restart must use the current ones. The running ssh has authenticated and is untouched.
 */
export async function rewriteGatewayFiles(runner: Runner, inputs: TunnelInputs, tag: string): Promise<GatewayEndpoint> {
  const gw = await prepareGateway(runner, inputs, tag);
  const files = tunnelFiles(await stateDir(runner), tag);
  const unused = [...(inputs.gateway.privateKey === undefined ? [files.keyFile] : []), ...(gw.askpassFile === undefined ? [files.passFile, files.askpassFile] : [])];
  if (unused.length > 0) await runner.run(["rm", "-f", "--", ...unused]);
  return gw;
}

/**
 * The preflight checks, cheapest first: bind address, free port, then the path through the
 * gateway (that one reused when the same path passed moments ago: see recent-checks.ts).
 */
export async function runPreflight(runner: Runner, inputs: TunnelInputs, gw: GatewayEndpoint): Promise<void> {
  await checkBindAddress(runner, inputs.bindAddress);
  await checkPortFree(runner, inputs.bindAddress, inputs.bindPort);
  const { host, port, user, hostKey, privateKey, privateKeyPath, privateKeyPassphrase } = inputs.gateway;
  const path = { where: runner.where, host, port: port ?? 22, user, hostKey: normalizeHostKey(hostKey), privateKey, privateKeyPath, privateKeyPassphrase, target: [inputs.targetHost, inputs.targetPort] };
  await checkUnlessRecent(path, () => checkGatewayPath(runner, gw, inputs.targetHost, inputs.targetPort));
}

/**
 * A tunnel's preflight on its own, with files of its own that are removed afterwards: GatedTunnel
 * runs it before its rule goes in, so a tunnel that cannot start leaves no rule behind. It runs in
 * the rule's create, when the state holds nothing of that resource: files under its owner prefix
 * were left by an earlier create killed mid-preflight (the gateway key among them), and go first.
 */
export async function preflightTunnel(runner: Runner, inputs: TunnelInputs): Promise<void> {
  await removeTunnelFilesOf(runner, ownerPrefix(inputs));
  const tag = makeTag(inputs, new Date());
  try {
    await runPreflight(runner, inputs, await prepareGateway(runner, inputs, tag));
  } finally {
    await removeTunnelFiles(runner, tag);
  }
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
