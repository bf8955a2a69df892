import { FirewallError } from "../errors";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { nftItems, type NftChain, type NftStatement } from "./nft-json";
import { GATE_TABLE } from "./nft-rules";

/**
 * An accept in one nftables base chain is not final: every other base chain on the same hook
 * still runs and can drop the packet. So a gate is only worth installing when no other firewall
 * on the host would drop the sources it accepts. These are the checks, shared by the nftables
 * and iptables backends.
 */

/** A base chain that drops what it does not accept itself. */
interface Blocker {
  family: string;
  table: string;
  chain: string;
  /** "policy drop", or the unconditional rule that drops. */
  reason: string;
}

const HOOKS = ["prerouting", "input"];
const FAMILIES = ["ip", "ip6", "inet"];

/** Reads `nft -j list ruleset`; `ignore` skips tables whose drop a backend's own accept ends. */
function findBlockers(json: string, ignore: (family: string, table: string) => boolean): Blocker[] {
  const items = nftItems(json);
  const base = items
    .map((i) => i.chain)
    .filter((c): c is NftChain => !!c && c.hook !== undefined && HOOKS.includes(c.hook) && FAMILIES.includes(c.family) && !ignore(c.family, c.table));
  const blockers: Blocker[] = [];
  for (const c of base) {
    const where = { family: c.family, table: c.table, chain: c.name };
    if (c.policy === "drop") blockers.push({ ...where, reason: "policy drop" });
    const catchAll = items.find(
      (i) => i.rule && i.rule.family === c.family && i.rule.table === c.table && i.rule.chain === c.name && isCatchAllDrop(i.rule.expr),
    )?.rule;
    if (catchAll) blockers.push({ ...where, reason: `an unconditional drop/reject rule (handle ${catchAll.handle})` });
  }
  return blockers;
}

/** True for a rule with no match at all before a drop or reject (counters and logs aside). */
function isCatchAllDrop(expr: unknown): boolean {
  if (!Array.isArray(expr) || expr.length === 0) return false;
  const statements: unknown[] = expr;
  const last = statements[statements.length - 1];
  const rest = statements.slice(0, -1);
  const terminal = typeof last === "object" && last !== null && ("drop" in last || "reject" in last || isXtDropTarget(last));
  return terminal && rest.every((e) => typeof e === "object" && e !== null && ("counter" in e || "log" in e));
}

/** iptables-nft's `-j DROP` or `-j REJECT`, as nft lists it. */
function isXtDropTarget(s: NftStatement): boolean {
  return s.xt?.type === "target" && typeof s.xt.name === "string" && ["DROP", "REJECT"].includes(s.xt.name);
}

function describeBlocker(b: Blocker): string {
  return `the ${b.chain} chain of table ${b.family} ${b.table} (${b.reason})`;
}

/** iptables-nft's own tables: `iptables -P INPUT DROP` shows up as ip filter INPUT. */
function isXtablesTable(family: string, table: string): boolean {
  return (family === "ip" || family === "ip6") && table === "filter";
}

function isOurNftTable(family: string, table: string): boolean {
  return family === GATE_TABLE.family && table === GATE_TABLE.name;
}

/** True when a binary is on the host's PATH. */
export async function hasCommand(runner: Runner, name: string): Promise<boolean> {
  return (await runner.run(hasCommandArgv(name))).exitCode === 0;
}

/** The command hasCommand runs. */
export function hasCommandArgv(name: string): string[] {
  return ["sh", "-c", 'command -v "$1" >/dev/null', "sh", name];
}

/**
 * `ufw status verbose` (active or not, and the default policies), or undefined when ufw is not
 * installed. Verbose, so that the ufw backend's own readiness check can use the same read.
 */
export async function readUfwStatus(runner: Runner): Promise<string | undefined> {
  if (!(await hasCommand(runner, "ufw"))) return undefined;
  return (await runChecked(runner, UFW_STATUS, { what: "read ufw's status", hint: "run the provider as root (or with sudo)" })).stdout;
}

export const UFW_STATUS = ["ufw", "status", "verbose"];

export function saysUfwActive(status: string | undefined): boolean {
  return status !== undefined && /^Status: active/m.test(status);
}

/** True when ufw is installed and `ufw status` says active. */
async function isUfwActive(runner: Runner): Promise<boolean> {
  return saysUfwActive(await readUfwStatus(runner));
}

/** A gate backend, as the check needs it: its name for messages, and where its accept sits. */
export interface GateBackend {
  name: string;
  /** The accept sits in iptables' own INPUT chain (ip/ip6 filter) and ends it, so that table's drop does not count. */
  inXtablesInput: boolean;
}

/**
 * Refuses (FirewallError) when another active firewall would still drop the sources a gate of
 * this backend accepts. The iptables backend's ACCEPT sits in iptables' own INPUT chain and ends
 * it, so that table's drop does not count against it; for nftables it does.
 */
export async function refuseOtherFirewalls(runner: Runner, gate: GateBackend): Promise<void> {
  const backend = gate.name;
  if (await isUfwActive(runner)) {
    throw new FirewallError(`ufw is active, and its chains would still drop the sources this ${backend} gate accepts`, {
      what: "check the firewall",
      where: runner.where,
      command: quoteArgv(UFW_STATUS),
      hint: 'use backend "ufw" (or "auto", which picks ufw when it is active)',
    });
  }
  // Without nft there are no nftables tables to worry about (a host with neither is iptables-only).
  if (gate.inXtablesInput && !(await hasCommand(runner, "nft"))) return;
  const argv = ["nft", "-j", "list", "ruleset"];
  const { stdout } = await runChecked(runner, argv, {
    what: "read the nftables ruleset",
    hint: "install nftables and run the provider as root (or with sudo)",
  });
  const ignore = gate.inXtablesInput ? (f: string, t: string) => isOurNftTable(f, t) || isXtablesTable(f, t) : isOurNftTable;
  const blockers = findBlockers(stdout, ignore);
  if (blockers.length === 0) return;
  const onlyXtables = blockers.every((b) => isXtablesTable(b.family, b.table));
  throw new FirewallError(`${blockers.map(describeBlocker).join("; ")} would still drop the sources this ${backend} gate accepts`, {
    what: "check the firewall",
    where: runner.where,
    command: quoteArgv(argv),
    hint: onlyXtables
      ? 'that is iptables\' INPUT chain: use backend "iptables", whose ACCEPT sits in that chain and ends it'
      : "accept these sources in that chain as well (or set its policy to accept): no rule in another table can overrule its drop",
  });
}
