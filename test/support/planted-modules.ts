import { LocalRunner } from "../../provider/host/local-runner";
import type { RunResult } from "../../provider/host/runner";

/**
 * A directory another local user owns, full of modules that shadow what our interpreters load
 * (Python, Perl, Node), each of which, if imported, leaves a marker file named after itself: the
 * canary for a command of ours that searched the directory it was started in.
 */
const local = new LocalRunner();

/** File name (below the directory) and its content; `{FIRED}` is replaced by the marker path. */
const PLANTS: [string, string][] = [
  ...["json", "gettext", "socket", "subprocess", "re", "sitecustomize", "usercustomize", "ufw"].map((m): [string, string] => [
    `${m}.py`,
    `open("{FIRED}.${m}.py", "w").close()\n`,
  ]),
  ["ufw/__init__.py", `open("{FIRED}.ufw-package", "w").close()\n`],
  ...["IO/Socket/UNIX.pm", "strict.pm", "warnings.pm"].map((m): [string, string] => [m, `open(F, ">", "{FIRED}.${m.replace(/\//g, "-")}"); 1;\n`]),
  ...["execa", "ssh2", "@pulumi/pulumi"].flatMap((m): [string, string][] => [
    [`node_modules/${m}/package.json`, JSON.stringify({ name: m, main: "index.js" })],
    [`node_modules/${m}/index.js`, `require("fs").writeFileSync("{FIRED}.node-${m.replace(/\//g, "-")}", "");\n`],
  ]),
];

export class PlantedModules {
  constructor(
    readonly user: string,
    readonly dir: string,
  ) {}

  private asUser(argv: string[]): Promise<RunResult> {
    return local.run(["runuser", "-u", this.user, "--", ...argv], { timeoutMs: 30_000 });
  }

  /** The markers start with this: in the directory itself, so a fired module needs nothing else to be writable. */
  get fired(): string {
    return `${this.dir}/FIRED`;
  }

  /** Made by the user, open to nobody else but readable (a shared work directory would be). */
  async plant(): Promise<void> {
    const script =
      'd=$1; shift; mkdir -p -m 755 -- "$d" && while [ $# -gt 0 ]; do mkdir -p -- "$d/$(dirname -- "$1")" && printf %s "$2" >"$d/$1" || exit; shift 2; done';
    const args = PLANTS.flatMap(([name, text]) => [name, text.replace(/\{FIRED\}/g, this.fired)]);
    const r = await this.asUser(["sh", "-c", script, "sh", this.dir, ...args]);
    if (r.exitCode !== 0) throw new Error(`planting modules in ${this.dir} failed: ${r.stderr}`);
  }

  /** The markers present now (names of the modules that ran). */
  async markers(): Promise<string[]> {
    const r = await local.run(["sh", "-c", 'cd "$1" && for f in FIRED.*; do [ -e "$f" ] && echo "$f"; done; true', "sh", this.dir]);
    return r.stdout.split("\n").filter(Boolean).sort();
  }

  async clearMarkers(): Promise<void> {
    await local.run(["sh", "-c", 'rm -f -- "$1".*', "sh", this.fired]);
  }

  /** argv run with the directory as its working directory (as root would, having cd'd there). */
  static startingIn(dir: string, argv: string[]): string[] {
    return ["sh", "-c", 'cd -- "$1" || exit 99; shift; exec "$@"', "sh", dir, ...argv];
  }

  async remove(): Promise<void> {
    await local.run(["rm", "-rf", "--", this.dir]);
  }
}
