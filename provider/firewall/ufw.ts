import { FirewallError } from "../errors";
import { freshReads } from "../host/fresh-reads";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { sharedReads } from "../host/shared-reads";
import type { FirewallRule } from "../types";
import { formatCidr, parseCidr } from "../validation/net";
import type { BackendKind, FirewallBackend, ObservedRule } from "./backend";
import { ensureLockDir, FIREWALL_LOCK } from "./host-lock";
import { buildNftRemovalSteps, chainName, UFW_SHIELD_TABLE } from "./nft-rules";
import { UfwShield } from "./ufw-shield";
import { hasTagPrefix } from "../tag";
import { ufwChange, type AfterBatch } from "./ufw-batch";
import { withLocalLock } from "./local-lock";
import { hasCommandArgv, readUfwStatus, saysUfwActive, UFW_STATUS } from "./other-firewalls";
import { buildUfwRemovalSteps, buildUfwRuleArgv, parseUfwUserRules, sameUfwRule, ufwDestination } from "./ufw-rules";

/**
 * ufw, in use when `ufw status` says active; it holds "to any" and "to 0.0.0.0/0" as one rule.
 * Each rule of ours has a shield beside it: the same gate in an nftables table of ours
 * (UFW_SHIELD_TABLE), accepting the rule's source and dropping every other for the port. ufw's
 * own rule alone keeps others out only while ufw's chains are whole: `ufw reload` and `ufw
 * disable` flush them and accept everything on INPUT for a moment (or for good), `iptables -F`
 * too. Those change iptables' tables only, so the shield keeps its drop through all of them, and
 * the guard need not race them. The shield goes in before ufw's rule and out after it.
 */
export const UFW: BackendKind = {
  name: "ufw",
  tool: "ufw",
  deniesByDefault: true,
  open: (runner) => new UfwBackend(runner),
  async detect(runner) {
    // The status read here is the one the backend checks next: one `ufw status verbose`, not two,
    // and one for all the rules a run creates on this host within a second (each costs ~100 ms of CPU).
    const status = await readUfwStatus(sharedReads(runner));
    const ran = [hasCommandArgv("ufw"), ...(status === undefined ? [] : [UFW_STATUS])];
    return { ...(saysUfwActive(status) ? { backend: new UfwBackend(runner, status) } : {}), ran };
  },
  sameRule: sameUfwRule,
  // ufw's rule first, the shield last: the reverse of add.
  removalSteps: (rules, tag) => [...buildUfwRemovalSteps(rules, tag), ...buildNftRemovalSteps(tag, UFW_SHIELD_TABLE)],
};

const ALONE = "ufw alone keeps other sources out, and its next reload or disable opens the port to everyone";

class UfwBackend implements FirewallBackend {
  readonly name = "ufw" as const;
  private readonly shield: UfwShield;
  /** `status`: a `ufw status verbose` just read (auto-detection's), so ensureReady need not read it again. */
  constructor(
    private readonly runner: Runner,
    private readonly status?: string,
  ) {
    this.shield = new UfwShield(runner);
  }

  async ensureReady(): Promise<void> {
    const argv = UFW_STATUS;
    const stdout =
      this.status ??
      (
        await runChecked(sharedReads(this.runner), argv, {
          what: "read ufw's status",
          hint: "install ufw and run the provider as root (or with sudo)",
        })
      ).stdout;
    if (!/^Status: active/m.test(stdout)) {
      throw new FirewallError("ufw is inactive, so an allow rule would filter nothing", {
        what: "check the firewall",
        where: this.runner.where,
        command: quoteArgv(argv),
        hint: "enable ufw with a default deny incoming policy (ufw default deny incoming && ufw enable), allowing ssh first",
      });
    }
    if (!/^Default: (deny|reject) \(incoming\)/m.test(stdout)) {
      throw new FirewallError("ufw's default incoming policy is allow, so an allow rule would keep no one out", {
        what: "check the firewall",
        where: this.runner.where,
        command: quoteArgv(argv),
        hint: "set ufw default deny incoming (allow ssh first)",
      });
    }
  }

  /**
   * ufw's saved rules; each of ours whose shield is gone or does not hold is `ineffective` (ufw
   * alone keeps others out only until its next reload or disable), so refresh reports it and up
   * puts the shield back.
   */
  async list(): Promise<ObservedRule[]> {
    return withShields(await this.listSaved(), await this.shield.list());
  }

  /**
   * The shield's rules whose ufw rule is gone (a run killed between adding the one and the other,
   * or a ufw rule deleted by hand): shield accepts with their own source, and drops with none
   * left, with the any-address source. `remove` with either deletes them.
   */
  async listStrayDrops(): Promise<ObservedRule[]> {
    return strays(await this.listSaved(), await this.shield.listing());
  }

  async listWithStrays(): Promise<ObservedRule[]> {
    const saved = await this.listSaved();
    const shield = await this.shield.listing();
    return [...withShields(saved, shield.accepts), ...strays(saved, shield)];
  }

  /**
   * ufw's saved rules, read under a shared hold of the firewall lock: ufw rewrites user.rules
   * while it changes a rule, and a read in the middle once missed a rule, so a concurrent destroy
   * took it for already gone and left it behind.
   */
  private async listSaved(): Promise<ObservedRule[]> {
    await ensureLockDir(this.runner);
    const argv = ["flock", "-s", "-w", "120", FIREWALL_LOCK, "cat", "/etc/ufw/user.rules", "/etc/ufw/user6.rules"];
    const { stdout } = await withLocalLock(this.runner, "shared", () =>
      runChecked(freshReads(this.runner), argv, { what: "read ufw's saved rules" }),
    );
    return parseUfwUserRules(stdout);
  }

  async add(rule: FirewallRule, tag: string): Promise<void> {
    const existing = (await this.listSaved()).find((r) => sameUfwRule(r, rule));
    if (existing && existing.comment !== tag) {
      throw new FirewallError(
        `an identical ufw rule already exists (comment ${JSON.stringify(existing.comment)}), and ufw cannot hold a second copy we could delete separately`,
        {
          what: "add the firewall rule",
          where: this.runner.where,
          command: quoteArgv(buildUfwRuleArgv("allow", rule, tag)),
          hint: "remove the hand-made rule (ufw delete allow ...) so this resource can own it, or drop the duplicate source from sources",
        },
      );
    }
    // The shield first: until ufw's rule is in, the trusted sources are shut out as well, and nobody else is ever let in.
    await this.shield.add(rule, tag);
    const after = existing ? undefined : await this.locked(buildUfwRuleArgv("allow", rule, tag), "add the firewall rule", rule);
    await this.verify(rule, tag, true, after);
  }

  async remove(rule: FirewallRule, tag: string): Promise<void> {
    const existing = (await this.listSaved()).find((r) => sameUfwRule(r, rule));
    // A rule carrying someone else's comment is theirs now (ufw rewrites the comment of an identical rule).
    if (existing && existing.comment === tag) {
      const after = await this.locked(buildUfwRuleArgv("delete", rule), "remove the firewall rule", rule);
      await this.verify(rule, tag, false, after);
    }
    // The shield last: removed first, it would leave ufw alone to keep others out of a port ours still opens.
    await this.shield.remove(rule, tag);
  }

  /**
   * Checks the rule is (or is not) both persisted in user.rules and live in iptables: from what the
   * change's batch saw after its changes, under the same locks (`after`), else read here.
   */
  private async verify(rule: FirewallRule, tag: string, present: boolean, after?: AfterBatch): Promise<void> {
    const savedRules = after ? parseUfwUserRules(after.saved) : await this.listSaved();
    const saved = savedRules.some((r) => sameUfwRule(r, rule) && r.comment === tag);
    const live = after ? after.live : (await this.runner.run(liveCheckArgv(rule))).exitCode === 0;
    if (saved === present && live === present) return;
    throw new FirewallError(`after the change the rule is ${saved ? "" : "not "}saved and ${live ? "" : "not "}live`, {
      what: present ? "verify the firewall rule" : "verify the firewall rule is gone",
      where: this.runner.where,
      command: quoteArgv(buildUfwRuleArgv(present ? "allow" : "delete", rule, present ? tag : undefined)),
      hint: "run ufw reload and check ufw status; another tool may be rewriting the firewall",
    });
  }

  /** Under the host's firewall lock (ufw loses rules when two ufw commands overlap), in the host's next batch. */
  private locked(argv: string[], what: string, rule: FirewallRule): Promise<AfterBatch | undefined> {
    return ufwChange(this.runner, argv, what, "check ufw status on the tunnel host", liveCheckArgv(rule));
  }
}

/** The command whose exit status 0 says `rule` is live in ufw's running chains. */
function liveCheckArgv(rule: FirewallRule): string[] {
  const src = parseCidr(rule.source);
  const v6 = typeof src !== "string" && src.address.kind() === "ipv6";
  const argv = [v6 ? "ip6tables" : "iptables", "-w", "-C", v6 ? "ufw6-user-input" : "ufw-user-input", "-p", rule.protocol];
  if (typeof src !== "string" && src.prefixLength > 0) argv.push("-s", formatCidr(src));
  const destination = ufwDestination(rule.destination);
  if (destination) argv.push("-d", destination);
  argv.push("--dport", String(rule.port), "-j", "ACCEPT");
  return argv;
}

/** ufw's saved rules; each of ours whose shield is gone or does not hold is marked ineffective (list). */
function withShields(saved: readonly ObservedRule[], shields: readonly ObservedRule[]): ObservedRule[] {
  return saved.map((rule) => {
    if (!hasTagPrefix(rule.comment)) return rule;
    const shield = shields.find((s) => s.comment === rule.comment && sameUfwRule(s, rule));
    const why = !shield ? "is gone" : shield.ineffective ? `does not hold (${shield.ineffective})` : undefined;
    return why ? { ...rule, ineffective: `its nftables shield in ${chainName(UFW_SHIELD_TABLE)} ${why}: ${ALONE}` } : rule;
  });
}

/** The shield's rules whose ufw rule is gone (listStrayDrops). */
function strays(saved: readonly ObservedRule[], shield: { accepts: ObservedRule[]; strayDrops: ObservedRule[] }): ObservedRule[] {
  const accepts = shield.accepts
    .filter((s) => hasTagPrefix(s.comment) && !saved.some((r) => r.comment === s.comment && sameUfwRule(r, s)))
    .map(({ ineffective: _i, ...rule }) => rule);
  return [...accepts, ...shield.strayDrops];
}
