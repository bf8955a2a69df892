import { ValidationError } from "../errors";
import { buildForwardArgv, type ForwardTarget, type GatewayEndpoint } from "../ssh/forward-argv";
import { buildHopConfig } from "../ssh/hop-config";
import type { SshLogin } from "../ssh/login-options";
import type { GatewayArgs, JumpHostArgs, TunnelInputs } from "../types";
import { hopFiles, tunnelFiles } from "./tunnel-files";

/**
 * The gateway endpoint a forward under `tag` uses, decided without I/O: which of the tag's files
 * (in state directory `dir`) hold the key, certificate and askpass, and the jump hosts' aliases,
 * logs and config. planGatewayFiles lists those files to write; diff compares what this makes of old and new
 * inputs (forwardShape).
 */
export function planGateway(gateway: GatewayArgs, keepAliveSeconds: number, dir: string, tag: string): GatewayEndpoint {
  const files = tunnelFiles(dir, tag);
  const gw: GatewayEndpoint = planLogin(gateway, files);
  const jumpHosts = gateway.jumpHosts ?? [];
  if (!Array.isArray(jumpHosts)) throw new ValidationError([{ property: "gateway.jumpHosts", reason: "is not a list (yet)" }]);
  if (jumpHosts.length > 0) {
    const hops = jumpHosts.map((hop, i) => {
      const hf = hopFiles(dir, tag, i + 1);
      return { ...planLogin(hop, hf), alias: `${tag}.hop${i + 1}`, logFile: hf.logFile };
    });
    gw.jump = { configFile: files.sshConfigFile, hops, keepAliveSeconds };
  }
  return gw;
}

/** One login: our key file for a key given by value, else the user's path; same for the certificate. */
function planLogin(
  args: JumpHostArgs | GatewayArgs,
  files: { knownHostsFile: string; keyFile: string; askpassFile: string; certFile: string },
): SshLogin {
  return {
    host: args.host,
    port: args.port ?? 22,
    user: args.user,
    knownHostsFile: files.knownHostsFile,
    ...(args.privateKey !== undefined
      ? { identityFile: files.keyFile }
      : args.privateKeyPath !== undefined
        ? { identityFile: args.privateKeyPath }
        : {}),
    ...(args.privateKeyPassphrase !== undefined ? { askpassFile: files.askpassFile } : {}),
    ...(args.certificate !== undefined ? { certificateFile: isCertificatePath(args.certificate) ? args.certificate : files.certFile } : {}),
    ...(args.agentSocket !== undefined ? { agentSocket: args.agentSocket } : {}),
  };
}

/** A certificate given as a path on the tunnel host (absolute), rather than by value. */
export function isCertificatePath(certificate: string): boolean {
  return certificate.startsWith("/");
}

/** The forward's far end: the Unix socket when targetSocket is given, else targetHost:targetPort. */
export function targetOf(inputs: Pick<TunnelInputs, "targetHost" | "targetPort" | "targetSocket">): ForwardTarget {
  return inputs.targetSocket !== undefined
    ? { socket: inputs.targetSocket }
    : { host: inputs.targetHost as string, port: inputs.targetPort as number };
}

/**
 * What the forward runs, apart from file contents: its argv and its hops' config, with a stand-in
 * directory and tag. Two inputs with the same shape differ only in what the tag's files hold (pins,
 * keys, certificates and passphrases by value), which an update rewrites in place; any other
 * change (a hop, a key path, an agent socket, a passphrase added) changes what a restart of the
 * forward would run, so it replaces the forward.
 */
export function forwardShape(
  inputs: Pick<TunnelInputs, "gateway" | "bindAddress" | "bindPort" | "targetHost" | "targetPort" | "targetSocket" | "keepAliveSeconds">,
): string | undefined {
  try {
    const keepAliveSeconds = inputs.keepAliveSeconds ?? 15;
    const gateway = planGateway(inputs.gateway, keepAliveSeconds, "/state", "pst.tag");
    const argv = buildForwardArgv({
      gateway,
      bindAddress: inputs.bindAddress,
      bindPort: inputs.bindPort,
      target: targetOf(inputs),
      keepAliveSeconds,
      logFile: "/state/pst.tag.log",
    });
    return JSON.stringify([argv, gateway.jump ? buildHopConfig(gateway.jump) : ""]);
  } catch {
    // Not computable (a value unknown until apply, or one validation refuses): say "changed".
    return undefined;
  }
}
