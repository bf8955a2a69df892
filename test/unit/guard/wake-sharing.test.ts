import { wakeGuard } from "../../../provider/guard/guard";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { STATE_DIR_OK } from "../state-dir-fixture";

const ok = (stdout = ""): RunResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });

/** A host with a running guard: every guard-wake.sh run signals it (exit 0) after `delayMs`; the wakes are counted. */
function hostWithGuard(where: string, delayMs = 20) {
  let wakes = 0;
  const runner: Runner = {
    where,
    close: async () => {},
    run: async (argv: readonly string[]): Promise<RunResult> => {
      if (argv[0] === "sh" && argv[2].startsWith("umask 077")) return ok(STATE_DIR_OK);
      if (argv[0] === "readlink") return ok("net:[4026531840]\n");
      if (argv[0] === "sh" && argv[2].startsWith("check=$1") && argv.includes("HUP")) {
        wakes += 1;
        await new Promise((r) => setTimeout(r, delayMs));
        return ok();
      }
      throw new Error(`unexpected command ${argv.join(" ")}`);
    },
  };
  return { runner, wakes: () => wakes };
}

test("forwards paired at once share a wake of the guard; one paired after that wake started gets its own", async () => {
  const host = hostWithGuard("wakes@host");
  await Promise.all([wakeGuard(host.runner), wakeGuard(host.runner), wakeGuard(host.runner)]);
  expect(host.wakes()).toBe(1);
  // Asked while a wake is under way: that one may have looked before this pairing, so a new one runs.
  const first = wakeGuard(host.runner);
  await new Promise((r) => setTimeout(r, 5));
  await Promise.all([first, wakeGuard(host.runner)]);
  expect(host.wakes()).toBe(3);
});
