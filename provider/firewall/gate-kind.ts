import type { Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { sameRange } from "../validation/net";
import { sameRule, type BackendKind, type FirewallBackend } from "./backend";
import { hasCommand, hasCommandArgv } from "./other-firewalls";

/**
 * The registry entry of a gate backend (see gate.ts): in use whenever its tool is installed (ufw,
 * tried first, is not active), its rules compared as parsed ranges, and the port open to every
 * source while its rules are gone (the host's default is accept).
 */
export function gateBackendKind(kind: {
  name: BackendKind["name"];
  tool: string;
  open: (runner: Runner) => FirewallBackend;
  removalSteps: (rules: FirewallRule[], tag: string) => string[][];
}): BackendKind {
  return {
    ...kind,
    deniesByDefault: false,
    async detect(runner) {
      return { ...((await hasCommand(runner, kind.tool)) ? { backend: kind.open(runner) } : {}), ran: [hasCommandArgv(kind.tool)] };
    },
    sameRule: (a, b) => sameRule(a, b, sameRange),
  };
}
