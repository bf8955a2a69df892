import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { Runner } from "../../../provider/host/runner";
import { ROOT_STATE_DIR as STATE_DIR } from "../../../provider/state/state-dir";
import { removeTunnelFilesOf } from "../../../provider/tunnel/tunnel-files";

/** Runs what the provider would run on the host, with the state directory moved to `dir`. */
function runnerIn(dir: string): Runner {
  const local = new LocalRunner();
  return {
    where: "test",
    close: async () => {},
    run: (argv, options) =>
      local.run(
        argv.map((a) => a.replace(STATE_DIR, dir)),
        options,
      ),
  };
}

test("removeTunnelFilesOf removes every tunnel file of the owner, whatever its tag, and nothing else", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-files-"));
  try {
    const mine = ["key", "pass", "askpass", "known_hosts", "log"].map((s) => `pst.p.s.web-allow.0123456789ab.1700000000.${s}`);
    const kept = [
      "pst.p.s.web-allow.0123456789ab.1700000000.watchdog",
      "pst.p.s.web-allow.0123456789ab.1700000000.deadline",
      "pst.p.s.web-allow-2.0123456789ab.1700000000.key",
      "pst.p.s.web-allow.ba9876543210.1700000000.key",
      "firewall.lock",
    ];
    for (const f of [...mine, ...kept]) writeFileSync(path.join(dir, f), "x");
    await removeTunnelFilesOf(runnerIn(dir), "pst.p.s.web-allow.0123456789ab.");
    expect(readdirSync(dir).sort()).toEqual([...kept].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
