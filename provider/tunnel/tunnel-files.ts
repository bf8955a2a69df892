import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import type { PrivateFile } from "../state/private-file";
import { removeOwnedFiles, removeOwnedFilesByPrefix } from "../state/owned-files";
import { probeFileNames } from "../ssh/socket-preflight";
import { gatedByFileName } from "../state/gate-pairing";
import { MAX_JUMP_HOSTS } from "../validation/gateway-inputs";

/** The files one ssh login needs, named `<stem>.<kind>`: its log, pinned host keys and credentials. */
function loginFileNames(stem: string) {
  return {
    logFile: `${stem}.log`,
    knownHostsFile: `${stem}.known_hosts`,
    keyFile: `${stem}.key`,
    passFile: `${stem}.pass`,
    askpassFile: `${stem}.askpass`,
    /** A certificate given by value. */
    certFile: `${stem}.cert`,
  };
}

/** The per-tunnel files' names (in the state directory): all of them carry the tag. */
export function tunnelFileNames(tag: string) {
  return {
    ...loginFileNames(tag),
    /** The jump hosts' ssh config: one Host alias per hop (see hop-config.ts). */
    sshConfigFile: `${tag}.ssh_config`,
    /** A Unix-socket target's preflight: its local end (private) and the probe ssh's log. */
    ...probeFileNames(tag),
    /** The rule tag of the gate in front of this forward (state/gate-pairing.ts). */
    gatedByFile: gatedByFileName(tag),
  };
}

/** Hop `n`'s files (1 = nearest the tunnel host); its log is that of the ssh that logs in to it. */
export function hopFileNames(tag: string, n: number) {
  return loginFileNames(`${tag}.hop${n}`);
}

/** Every file name a tunnel may have, hops included: what removal and the expiry watchdog take. */
export function allTunnelFileNames(tag: string): string[] {
  const hops = Array.from({ length: MAX_JUMP_HOSTS }, (_, i) => Object.values(hopFileNames(tag, i + 1)));
  return [...Object.values(tunnelFileNames(tag)), ...hops.flat()];
}

/**
 * The names of a tunnel's secrets (the gateway's and every hop's key, passphrase and askpass):
 * what its keeper removes whenever it ends (keeper/keeper-script.ts), so none outlives the forward.
 */
export function secretTunnelFileNames(tag: string): string[] {
  const secrets = (f: ReturnType<typeof loginFileNames>) => [f.keyFile, f.passFile, f.askpassFile];
  return [...secrets(loginFileNames(tag)), ...Array.from({ length: MAX_JUMP_HOSTS }, (_, i) => secrets(hopFileNames(tag, i + 1))).flat()];
}

type Paths<T> = { [K in keyof T]: string };

function inDir<T extends Record<string, string>>(dir: string, names: T): Paths<T> {
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${dir}/${v}`])) as Paths<T>;
}

/** The per-tunnel files in state directory `dir`. */
export function tunnelFiles(dir: string, tag: string): ReturnType<typeof tunnelFileNames> {
  return inDir(dir, tunnelFileNames(tag));
}

/** Hop `n`'s files in state directory `dir`. */
export function hopFiles(dir: string, tag: string, n: number): ReturnType<typeof hopFileNames> {
  return inDir(dir, hopFileNames(tag, n));
}

/**
 * Removes a tunnel's files: the key and passphrase too, which stay for the forward's life (see
 * docs/state-on-the-host.md, "Where state lives"). Also from the legacy /tmp directory, but only when it is ours.
 */
export async function removeTunnelFiles(runner: Runner, tag: string): Promise<void> {
  await removeOwnedFiles(runner, allTunnelFileNames(tag));
}

/**
 * Removes every tunnel file (key, passphrase, askpass, known_hosts, log) under an owner prefix,
 * whatever its tag: what a create killed part-way left. Other files under the prefix (a
 * watchdog's script and deadline) are left alone, but for those whose suffixes are in `alsoSuffixes`.
 */
export async function removeTunnelFilesOf(runner: Runner, prefix: string, alsoSuffixes: readonly string[] = []): Promise<void> {
  await removeOwnedFilesByPrefix(runner, prefix, [...allTunnelFileNames(""), ...alsoSuffixes]);
}

/**
 * The passphrase (0600) and an askpass script (0700) that prints it, for ssh to read through
 * SSH_ASKPASS: the passphrase never appears in argv or the environment.
 */
export function askpassFiles(files: { passFile: string; askpassFile: string }, passphrase: string): PrivateFile[] {
  return [
    { path: files.passFile, content: `${passphrase}\n` },
    { path: files.askpassFile, content: `#!/bin/sh\nexec cat ${quoteArgv([files.passFile])}\n`, mode: "700" },
  ];
}
