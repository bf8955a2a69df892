import type { FirewallRule } from "../types";
import { assertTag } from "../tag";
import { assertPort, assertProtocol, parseRule, placeDropsPerTable, type Family, type GateEntry } from "./gate";

/** Our chain in the filter table of iptables and of ip6tables, jumped to from INPUT at position 1. */
export const GATE_CHAIN = "PST-GATE";

export function pickBinary(family: Family): "iptables" | "ip6tables" {
  return family === "ip" ? "iptables" : "ip6tables";
}

/** `-S` of the whole filter table: also shows whether the chain and the jump exist, and never fails when they do not. */
export function buildListArgv(family: Family): string[] {
  return [pickBinary(family), "-w", "-S"];
}

/** `-S INPUT`: changes only when the jump (or someone else's INPUT rule) does, not with our chain's rules. */
export function buildInputListArgv(family: Family): string[] {
  return [pickBinary(family), "-w", "-S", "INPUT"];
}

/** The part of a whole-table `-S` listing that `-S INPUT` prints, byte for byte (so one read serves both). */
export function extractInputChain(text: string): string {
  return text
    .split("\n")
    .filter((line) => /^-[PA] INPUT( |$)/.test(line))
    .map((line) => `${line}\n`)
    .join("");
}

/** The rule spec shared by -I/-A, -C and -D (iptables matches -C and -D on the whole spec, comment included). */
export function buildGateSpec(entry: Pick<GateEntry, "verdict" | "source" | "destination" | "port" | "protocol">, tag: string): string[] {
  return [
    "-p",
    assertProtocol(entry.protocol),
    ...(entry.source !== undefined ? ["-s", entry.source] : []),
    ...(entry.destination !== undefined ? ["-d", entry.destination] : []),
    "--dport",
    String(assertPort(entry.port)),
    "-m",
    "comment",
    "--comment",
    assertTag(tag),
    "-j",
    entry.verdict === "accept" ? "ACCEPT" : "DROP",
  ];
}

export interface IptablesGate {
  family: Family;
  chainExists: boolean;
  /** How many `-A INPUT -j PST-GATE` there are (normally 0 or 1). */
  jumps: number;
  /** Their rule numbers in INPUT (1 = first): the gate holds only when INPUT's first rule jumps to it. */
  jumpAt: number[];
  entries: GateEntry[];
  /** Rules in our chain that are not in the gate's shape; they keep the chain alive. */
  foreign: number;
}

/** Reads `iptables -S` / `ip6tables -S` output (filter table). */
export function parseIptablesGate(text: string, family: Family): IptablesGate {
  const gate: IptablesGate = { family, chainExists: false, jumps: 0, jumpAt: [], entries: [], foreign: 0 };
  let inputRules = 0;
  for (const line of text.split("\n")) {
    const words = splitWords(line.trim());
    if (words[0] === "-A" && words[1] === "INPUT") inputRules++;
    if (words[0] === "-N" && words[1] === GATE_CHAIN && words.length === 2) gate.chainExists = true;
    else if (words.join(" ") === `-A INPUT -j ${GATE_CHAIN}`) {
      gate.jumps++;
      gate.jumpAt.push(inputRules);
    } else if (words[0] === "-A" && words[1] === GATE_CHAIN) {
      const entry = parseGateRule(words.slice(2), family);
      if (entry) gate.entries.push(entry);
      else gate.foreign++;
    }
  }
  return gate;
}

/** One `-A PST-GATE` rule's options, when they are exactly what buildGateSpec writes; otherwise undefined. */
function parseGateRule(words: string[], family: Family): GateEntry | undefined {
  const opts = new Map<string, string>();
  for (let i = 0; i < words.length; i += 2) {
    const [key, value] = [words[i], words[i + 1]];
    if (value === undefined) return undefined;
    if (key === "-m" && ["tcp", "udp", "comment"].includes(value)) continue;
    if (!["-s", "-d", "-p", "--dport", "--comment", "-j"].includes(key) || opts.has(key)) return undefined;
    opts.set(key, value);
  }
  const protocol = opts.get("-p");
  const port = opts.get("--dport");
  const target = opts.get("-j");
  if ((protocol !== "tcp" && protocol !== "udp") || !port || !/^\d+$/.test(port) || (target !== "ACCEPT" && target !== "DROP")) return undefined;
  const verdict = target === "ACCEPT" ? "accept" : "drop";
  if (verdict === "drop" && opts.has("-s")) return undefined;
  // iptables prints no -s for 0.0.0.0/0 (::/0): an accept without one admits its whole family.
  const source = verdict === "accept" ? stripHostPrefix(opts.get("-s") ?? (family === "ip" ? "0.0.0.0/0" : "::/0")) : undefined;
  const destination = opts.has("-d") ? stripHostPrefix(opts.get("-d")!) : undefined;
  return {
    verdict,
    port: Number(port),
    protocol,
    comment: opts.get("--comment") ?? "",
    family,
    ...(source !== undefined ? { source } : {}),
    ...(destination !== undefined ? { destination } : {}),
  };
}

/** iptables prints a single address as a /32 (/128); state and inputs spell it bare. */
function stripHostPrefix(address: string): string {
  return address.replace(/\/(32|128)$/, "");
}

/**
 * Splits an -S line into words; iptables double-quotes a comment and escapes quotes in it.
 * @internal exported for its unit tests
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return words;
}

/** Steps that add the accept (top) and drops (bottom) of one family, creating the chain and jump if needed. */
export function buildAddSteps(
  gate: IptablesGate,
  tag: string,
  add: Pick<GateEntry, "verdict" | "source" | "destination" | "port" | "protocol">[],
): string[][] {
  if (add.length === 0) return [];
  const bin = [pickBinary(gate.family), "-w"];
  const steps: string[][] = [];
  if (!gate.chainExists) steps.push([...bin, "-N", GATE_CHAIN]);
  steps.push(...buildJumpSteps(gate));
  for (const e of add) {
    steps.push(
      e.verdict === "accept" ? [...bin, "-I", GATE_CHAIN, "1", ...buildGateSpec(e, tag)] : [...bin, "-A", GATE_CHAIN, ...buildGateSpec(e, tag)],
    );
  }
  return steps;
}

/**
 * Steps that make INPUT's first rule the jump to PST-GATE, and the only one: a jump missing
 * (`iptables -F INPUT`) or below another rule (which may accept first) leaves the gate open.
 * The new jump goes in at 1 before the old ones go (by number, +1 for the insert, last first),
 * so the gate is never unreachable in between; numbers are only right for the INPUT listing
 * they were read from, so these steps run under the "input" unchanged-listing guard.
 */
export function buildJumpSteps(gate: Pick<IptablesGate, "family" | "jumpAt">): string[][] {
  if (gate.jumpAt.length === 1 && gate.jumpAt[0] === 1) return [];
  const bin = [pickBinary(gate.family), "-w"];
  return [[...bin, "-I", "INPUT", "1", "-j", GATE_CHAIN], ...[...gate.jumpAt].reverse().map((n) => [...bin, "-D", "INPUT", String(n + 1)])];
}

/** Why our gate in this table is not reached first, for the drift report (undefined: it is). */
export function explainJump(gate: Pick<IptablesGate, "family" | "jumpAt">): string | undefined {
  if (gate.jumpAt.length === 0) return `INPUT no longer jumps to ${GATE_CHAIN} (${pickBinary(gate.family)})`;
  if (gate.jumpAt[0] !== 1) return `${gate.jumpAt[0] - 1} rule(s) come before the jump to ${GATE_CHAIN} in INPUT (${pickBinary(gate.family)})`;
  return undefined;
}

/** Steps that delete rules by their spec, comment included, so only rules carrying `tag` can go. */
export function buildRemoveSteps(gate: IptablesGate, tag: string, doomed: readonly GateEntry[]): string[][] {
  return doomed.map((e) => [pickBinary(gate.family), "-w", "-D", GATE_CHAIN, ...buildGateSpec(e, tag)]);
}

/** Steps that remove the jump and the chain once the chain holds nothing at all; none otherwise. */
export function buildDropChainSteps(gate: IptablesGate): string[][] {
  if (!gate.chainExists || gate.entries.length > 0 || gate.foreign > 0) return [];
  const bin = [pickBinary(gate.family), "-w"];
  return [...Array.from({ length: gate.jumps }, () => [...bin, "-D", "INPUT", "-j", GATE_CHAIN]), [...bin, "-X", GATE_CHAIN]];
}

/**
 * The expiry watchdog's steps (run under the firewall lock; see watchdog.sh): iptables -D matches
 * the whole spec, comment included, so it can only delete our own rules, each until none is left.
 * Accepts before drops; then, as the provider's own delete does, the jump and the chain once the
 * chain holds nothing at all.
 */
export function buildIptablesRemovalSteps(rules: FirewallRule[], tag: string): string[][] {
  const accepts: string[][] = [];
  const drops = new Map<string, string[]>();
  const binaries = new Set<string>();
  for (const rule of rules) {
    const p = parseRule(rule);
    binaries.add(pickBinary(p.family));
    accepts.push([pickBinary(p.family), "-w", "-D", GATE_CHAIN, ...buildGateSpec({ verdict: "accept", ...p }, tag)]);
    for (const family of placeDropsPerTable(p)) {
      binaries.add(pickBinary(family));
      const drop = [pickBinary(family), "-w", "-D", GATE_CHAIN, ...buildGateSpec({ verdict: "drop", ...p, source: undefined }, tag)];
      drops.set(JSON.stringify(drop), drop);
    }
  }
  const dropChain = [...binaries].sort().map((bin) => ["drop_empty_chain", bin, GATE_CHAIN]);
  return [...[...accepts, ...drops.values()].map((argv) => ["delete_all", ...argv]), ...dropChain];
}
