import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InternalError } from "../errors";
import { quoteArgv } from "../host/quote";
import { renderSettings, settingsList } from "../host/sourced-settings";
import { assertTag } from "../tag";
import { formatHostPort, parseAddress } from "../validation/net";

/** The keeper's own files, beside the tunnel's (all named with the tag, in the private state directory). */
export function keeperFileNames(tag: string) {
  assertTag(tag);
  return {
    /** The program (keeper.sh); its path in the keeper's argv (`sh <dir>/<tag>.keeper`) is how it is found. */
    script: `${tag}.keeper`,
    /** The program's settings (buildKeeperSettings), sourced from "$0.env" when it starts. */
    settings: `${tag}.keeper.env`,
    /** Unix seconds on the host's clock; absent: no expiry. Re-read on SIGUSR1. */
    deadline: `${tag}.deadline`,
    /** "always" or "never". Absent until create has seen the first start hold the listener: until then an exit is final. */
    policy: `${tag}.restart`,
    /** `set -- <ssh argv>`, sourced before each start: an update rewrites it (new key file, askpass) without touching the running ssh. */
    argv: `${tag}.argv`,
    /** key=value lines the keeper rewrites (by rename) at each start and exit: see parseKeeperStatus. */
    status: `${tag}.status`,
    /** Present while the guard (guard/guard.py) holds the forward paused: the reason, one line. Written by the guard only. */
    paused: `${tag}.paused`,
  };
}

export interface KeeperSpec {
  /** The private state directory. */
  dir: string;
  tag: string;
  /** Names in `dir` the keeper removes when it expires (the tunnel's files); its own go too. */
  files: string[];
  /**
   * Names in `dir` the keeper removes whenever it ends (TERM from destroy, reap or a rule's
   * watchdog, its deadline, a final ssh exit): the keys, passphrases and askpass scripts, which
   * must never outlive the forward. Each must be a file of this tag.
   */
  secrets: string[];
  /** The forward's bind address and port: after an exit, whoever else holds them is named in last_error. */
  listen?: { address: string; port: number };
}

/**
 * The keeper (keeper.sh, a real file of the package, linted with shellcheck and dash -n): a POSIX
 * sh program, started detached (setsid) through the forward's runner, so it lives in the same
 * network namespace and firewall configuration, and outlives the connection. Its text is the same
 * for every tunnel; what is particular to one is in its settings file (buildKeeperSettings).
 *
 * - ssh runs in the background and the keeper `wait`s for it: a trapped signal interrupts `wait`
 *   (a foreground child would defer the trap until ssh exits). Idle, it uses no CPU.
 * - An exit is final while the policy file does not say "always" (create writes it once the
 *   first start holds the listener; "never" keeps today's behaviour: the tunnel stays dead).
 * - An ssh that authenticated (its -E log says so at LogLevel VERBOSE) is started again at once,
 *   unless it ran under a second right after another such short run; any other exit is a failure,
 *   and consecutive failures wait 1, 2, 4 ... 30 s. A run of a minute resets the count.
 * - TERM (destroy) stops ssh and the keeper; USR1 re-reads the deadline. At the deadline a timer
 *   child signals USR1 (only while the keeper is still its parent: a pid is never signalled after
 *   reuse), and the keeper stops ssh, removes the tunnel's files and exits.
 * - Whenever it ends, its EXIT trap removes the tunnel's secrets: whoever stopped it (a rule's
 *   watchdog TERMs it and then never looks at the forward's files) needs to know nothing of them.
 *   One exit keeps them: ssh's exit before create wrote the policy, where create decides (it may
 *   start a fresh keeper with the same files, or removes them itself).
 */
export const KEEPER_PROGRAM = readFileSync(join(__dirname, "keeper.sh"), "utf8");

/**
 * The keeper's settings (`<tag>.keeper.env`, which the program sources from "$0.env"): its files,
 * and the lists of paths it removes, one a line. Values only, each quoted by quoteArgv.
 */
export function buildKeeperSettings(spec: KeeperSpec): string {
  const names = keeperFileNames(spec.tag);
  const at = (name: string) => `${spec.dir}/${name}`;
  const mine = [...spec.files, ...Object.values(names)].map(at);
  const secrets = spec.secrets.map((n) => at(ownFile(spec.tag, n)));
  const values: [string, string][] = [
    ["log", at(`${spec.tag}.log`)],
    ["status", at(names.status)],
    ["policy_file", at(names.policy)],
    ["deadline_file", at(names.deadline)],
    ["timer_name", at(`${spec.tag}.timer`)],
    ["argv_file", at(names.argv)],
    ["paused_file", at(names.paused)],
    ["listen_at", spec.listen ? ssAddress(spec.listen.address, spec.listen.port) : ""],
    ["secrets", list(secrets)],
    ["mine", list(mine)],
  ];
  return renderSettings(`Settings of the pulumi-shared-tunnel keeper for ${spec.tag} (its program: ${names.script}).`, values);
}

/** address:port as `ss -n` prints a listener's: IPv6 compressed, in brackets (the keeper compares the text). */
function ssAddress(address: string, port: number): string {
  const p = parseAddress(address);
  return formatHostPort(typeof p === "string" ? address : p.toString(), port);
}

/** A name in the state directory that belongs to `tag` (no path, not another tag's): the only kind the keeper removes. */
function ownFile(tag: string, name: string): string {
  if (!name.startsWith(`${tag}.`) || name.includes("/") || name === `${tag}.`)
    throw new InternalError(`${JSON.stringify(name)} is not a file of ${tag}`, "build the keeper's settings");
  return name;
}

/** The argv file's content (`set -- ...`, quoted by the one quoting function): the ssh the keeper runs next. */
export function buildKeeperArgvFile(sshArgv: readonly string[]): string {
  return `set -- ${quoteArgv(sshArgv)}\n`;
}

/** A list in the keeper's settings (see settingsList). */
function list(items: string[]): string {
  return settingsList(items, "build the keeper's settings");
}
