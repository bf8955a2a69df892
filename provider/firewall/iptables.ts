import { FirewallError } from "../errors";
import { quoteArgv } from "../host/quote";
import { exactStdout, runChecked, type Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { sameRange } from "../validation/net";
import type { FirewallBackend, ObservedRule } from "./backend";
import { sameRule } from "./backend";
import { findStrayDrops, placeDropsPerTable, parseRule, planAdd, planRemove, makeObservedRule, type Family, type GateEntry } from "./gate";
import { hashListing, retryUntilApplied, runLocked } from "./host-lock";
import { listGateAccepts } from "./gate-drift";
import {
  explainJump,
  buildJumpSteps,
  pickBinary,
  buildAddSteps,
  buildDropChainSteps,
  buildGateSpec,
  buildRemoveSteps,
  GATE_CHAIN,
  extractInputChain,
  buildInputListArgv,
  buildListArgv,
  buildIptablesRemovalSteps,
  parseIptablesGate,
  type IptablesGate,
} from "./iptables-rules";
import { gateBackendKind } from "./gate-kind";
import { refuseOtherFirewalls } from "./other-firewalls";

const HINT = "check iptables -S PST-GATE and ip6tables -S PST-GATE on the tunnel host";
/** `bytes`: the listing as the host printed it, for the digest a change is guarded by. */
type Listing = { bytes: Buffer; gate: IptablesGate };
/**
 * What a stale listing could make wrong, and so what must be unchanged when the steps run:
 * "input" for adds (the chain and jump they rely on may have just been removed; INPUT shows
 * that), "table" for removing the chain (another resource may have just added to it). Deleting
 * our own rules needs neither: only this resource touches rules carrying its tag.
 */
type Guard = "input" | "table" | undefined;
/** Plans one step list per family from both families' gates (a port's drop may live in both). */
type Planner = (gates: Record<Family, IptablesGate>, entries: GateEntry[]) => Record<Family, { steps: string[][]; guard: Guard }>;

/**
 * The same gate as the nftables backend (see gate.ts) in a PST-GATE chain of iptables' and
 * ip6tables' filter tables, jumped to from INPUT at position 1. With iptables-nft an ACCEPT ends
 * only the ip filter table's INPUT; other nftables base chains still run (ensureReady checks them).
 * A port's drop goes in both tables when there is no destination, so no family stands open.
 */
/** iptables, in use when neither ufw is active nor nft installed. */
export const IPTABLES = gateBackendKind({
  name: "iptables",
  tool: "iptables",
  open: (runner) => new IptablesBackend(runner),
  removalSteps: buildIptablesRemovalSteps,
});

class IptablesBackend implements FirewallBackend {
  readonly name = "iptables" as const;
  constructor(private readonly runner: Runner) {}

  async ensureReady(): Promise<void> {
    for (const family of ["ip", "ip6"] as const) {
      await runChecked(this.runner, buildListArgv(family), {
        what: `read ${pickBinary(family)}' filter table`,
        hint: "install iptables and run the provider as root (or with sudo)",
      });
    }
    await refuseOtherFirewalls(this.runner, { name: this.name, inXtablesInput: true });
  }

  /** Our accepts; one whose table's INPUT does not jump to PST-GATE first is marked ineffective. */
  async list(): Promise<ObservedRule[]> {
    return listIptablesGates(await this.readBoth());
  }

  async listStrayDrops(): Promise<ObservedRule[]> {
    return strayDropsOf(await this.readBoth());
  }

  async listWithStrays(): Promise<ObservedRule[]> {
    const gates = await this.readBoth();
    return [...listIptablesGates(gates), ...strayDropsOf(gates)];
  }

  async add(rule: FirewallRule, tag: string): Promise<void> {
    const parsed = parseRule(rule, this.runner.where);
    const order = orderFamilies(parsed.family);
    await this.change("add the iptables rule", order, (gates, entries) => {
      const plan = planAdd(entries, parsed, tag, placeDropsPerTable(parsed));
      const steps = { ip: { steps: [] as string[][], guard: "input" as Guard }, ip6: { steps: [] as string[][], guard: "input" as Guard } };
      for (const family of order) {
        const needed = placeDropsPerTable(parsed).includes(family);
        const add = [
          ...(plan.accept && family === parsed.family ? [{ verdict: "accept" as const, ...parsed }] : []),
          ...plan.drops
            .filter((f) => f === family)
            .map(() => ({ verdict: "drop" as const, destination: parsed.destination, port: parsed.port, protocol: parsed.protocol })),
        ];
        // Nothing to add but the gate is there: make it reachable again (the jump first in INPUT).
        steps[family].steps =
          add.length > 0 ? buildAddSteps(gates[family], tag, add) : needed && gates[family].chainExists ? buildJumpSteps(gates[family]) : [];
      }
      return steps;
    });
    // Live means reachable: the jump from INPUT and each of our rules, checked the way iptables matches them.
    const checks = [[pickBinary(parsed.family), "-w", "-C", GATE_CHAIN, ...buildGateSpec({ verdict: "accept", ...parsed }, tag)]];
    for (const family of placeDropsPerTable(parsed)) {
      checks.push([pickBinary(family), "-w", "-C", "INPUT", "-j", GATE_CHAIN]);
      checks.push([pickBinary(family), "-w", "-C", GATE_CHAIN, ...buildGateSpec({ verdict: "drop", ...parsed, source: undefined }, tag)]);
    }
    for (const argv of checks) {
      if ((await this.runner.run(argv)).exitCode !== 0) this.fail(argv, "the rule is not live after adding it");
    }
    const listed = listIptablesGates(await this.readBoth()).find((r) => r.comment === tag && sameRule(r, rule, sameRange));
    if (listed?.ineffective) this.fail(buildInputListArgv(parsed.family), `the gate does not hold after adding it: ${listed.ineffective}`);
  }

  async remove(rule: FirewallRule, tag: string): Promise<void> {
    const parsed = parseRule(rule, this.runner.where);
    await this.change("remove the iptables rule", orderFamilies(parsed.family), (gates, entries) => {
      const doomed = planRemove(entries, parsed, tag);
      const forFamily = (f: Family) => ({
        steps: buildRemoveSteps(
          gates[f],
          tag,
          doomed.filter((e) => e.family === f),
        ),
        guard: undefined,
      });
      return { ip: forFamily("ip"), ip6: forFamily("ip6") };
    });
    // Only the last resource out can see the chain empty (after its own removal); a stale "empty" is guarded.
    await this.change("remove the empty PST-GATE chain", ["ip", "ip6"], (gates) => ({
      ip: { steps: buildDropChainSteps(gates.ip), guard: "table" },
      ip6: { steps: buildDropChainSteps(gates.ip6), guard: "table" },
    }));
    const left = (await this.readBoth())[parsed.family].gate.entries;
    if (left.some((e) => e.verdict === "accept" && e.comment === tag && sameRule(makeObservedRule(e), parsed, sameRange))) {
      this.fail(buildListArgv(parsed.family), "the accept rule is still there after removing it");
    }
  }

  private async readBoth(): Promise<Record<Family, Listing>> {
    const read = async (family: Family): Promise<Listing> => {
      const result = await runChecked(this.runner, buildListArgv(family), { what: `read ${pickBinary(family)}' filter table`, hint: HINT });
      return { bytes: exactStdout(result), gate: parseIptablesGate(result.stdout, family) };
    };
    return { ip: await read("ip"), ip6: await read("ip6") };
  }

  /** Plans from both listings, then applies each family's steps under the lock, guarded as planned. */
  private async change(what: string, order: Family[], plan: Planner): Promise<void> {
    await retryUntilApplied(this.runner, what, async () => {
      const listings = await this.readBoth();
      const planned = plan({ ip: listings.ip.gate, ip6: listings.ip6.gate }, [...listings.ip.gate.entries, ...listings.ip6.gate.entries]);
      for (const family of order) {
        const { steps, guard } = planned[family];
        if (steps.length === 0) continue;
        const bytes = listings[family].bytes;
        // The INPUT lines cut from the bytes as they are (latin1 keeps each byte), not from decoded text.
        const input = () => Buffer.from(extractInputChain(bytes.toString("latin1")), "latin1");
        const unchanged =
          guard === "input"
            ? { read: buildInputListArgv(family), digest: hashListing(input()) }
            : guard === "table"
              ? { read: buildListArgv(family), digest: hashListing(bytes) }
              : undefined;
        if ((await runLocked(this.runner, steps, { what, hint: HINT, ...(unchanged ? { unchanged } : {}) })) === "changed") return "changed";
      }
      return "done";
    });
  }

  private fail(argv: string[], message: string): never {
    throw new FirewallError(message, { what: "verify the iptables rule", where: this.runner.where, command: quoteArgv(argv), hint: HINT });
  }
}

/** Our accepts from both tables, each checked for a drop that INPUT reaches first. */
function listIptablesGates(listings: Record<Family, Listing>): ObservedRule[] {
  const entries = [...listings.ip.gate.entries, ...listings.ip6.gate.entries];
  return listGateAccepts(entries, placeDropsPerTable, (accept, drops) => {
    const families = new Set([accept.family, ...drops].filter((f): f is Family => f !== undefined));
    return [...families].map((f) => explainJump(listings[f].gate)).find((why) => why !== undefined);
  });
}

/** The rule's own family first, so its accept goes in (or out) before the other family's drop. */
function orderFamilies(first: Family): Family[] {
  return first === "ip" ? ["ip", "ip6"] : ["ip6", "ip"];
}

/** Drops of both families none of whose accepts is left (listStrayDrops). */
function strayDropsOf(gates: Record<Family, Listing>): ObservedRule[] {
  return findStrayDrops([...gates.ip.gate.entries, ...gates.ip6.gate.entries]);
}
