import { FirewallError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import type { ObservedRule } from "./backend";
import { nftListArgv, UFW_SHIELD_TABLE } from "./nft-rules";
import { isNftMissing, NftGateTable, unlessNftMissing } from "./nftables";

/**
 * A ufw rule's shield (see ufw.ts): the nftables gate in UFW_SHIELD_TABLE. A host without `nft`
 * has no shield: reads and removals there find none (so refresh shows every rule of ours without
 * its shield, and a destroy still works), and adding one fails before anything is changed.
 */
export class UfwShield {
  private readonly gate: NftGateTable;
  constructor(private readonly runner: Runner) {
    this.gate = new NftGateTable(runner, UFW_SHIELD_TABLE);
  }

  async add(rule: FirewallRule, tag: string): Promise<void> {
    try {
      await this.gate.add(rule, tag);
    } catch (err) {
      if (!isNftMissing(err)) throw err;
      throw new FirewallError("the tunnel host has no nft, which every ufw rule's shield needs", {
        what: "add the ufw rule's shield",
        where: this.runner.where,
        command: quoteArgv(nftListArgv(UFW_SHIELD_TABLE)),
        hint: "install nftables on the tunnel host (apt install nftables): the shield keeps every other source out while ufw reloads or is disabled. Nothing was changed",
      });
    }
  }

  remove = (rule: FirewallRule, tag: string): Promise<void> => unlessNftMissing(() => this.gate.remove(rule, tag), undefined);
  list = (): Promise<ObservedRule[]> => unlessNftMissing(() => this.gate.list(), []);
  listing = () => unlessNftMissing(() => this.gate.listing(), { accepts: [], strayDrops: [] });
}
