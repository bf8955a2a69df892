import { spawnSync } from "node:child_process";
import { closeSync, constants, lstatSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";

/** Every kind of file we keep per tag on a tunnel host (tunnel files, watchdog files). */
const EXTS = ["key", "pass", "askpass", "known_hosts", "log", "watchdog", "deadline"];

/**
 * What a local attacker plants in a state directory: under every name a tag of the given owner
 * prefixes could take in a time window, a FIFO (held open for reading, so a writer never blocks)
 * or a symlink to a file of the attacker's, owned by `uid`. `keepPlanting` re-creates, every
 * 20 ms, what a create's cleanup removed, as an attacker in a loop would.
 */
export class PlantedNames {
  private readonly fifos = new Map<string, number[]>();
  private readonly got = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  readonly planted = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly prefixes: string[],
    private readonly uid: number,
    private readonly targetDir: string,
  ) {
    for (const ext of EXTS) writeFileSync(this.target(ext), "untouched\n", { mode: 0o666 });
    spawnSync("chown", [String(uid), ...EXTS.map((e) => this.target(e))]);
  }

  target(ext: string): string {
    return `${this.targetDir}/planted-target.${ext}`;
  }

  /** Plants every missing name for tags of seconds [from, to]. */
  plant(from: number, to: number): void {
    const missing: { path: string; fifo: boolean; ext: string }[] = [];
    for (const prefix of this.prefixes) {
      for (let s = from; s <= to; s++) {
        EXTS.forEach((ext, i) => {
          const path = `${this.dir}/${prefix}${s}.${ext}`;
          if (!exists(path)) missing.push({ path, fifo: (s + i) % 2 === 0, ext });
        });
      }
    }
    if (missing.length === 0) return;
    const script =
      'u=$1; shift; while [ $# -gt 0 ]; do if [ "$1" = f ]; then mkfifo -m 666 "$2"; else ln -s "$3" "$2"; fi; chown -h "$u" "$2"; shift 3; done';
    spawnSync("sh", ["-c", script, "sh", String(this.uid), ...missing.flatMap((m) => [m.fifo ? "f" : "l", m.path, this.target(m.ext)])]);
    for (const m of missing) {
      this.planted.add(m.path);
      if (m.fifo && exists(m.path))
        this.fifos.set(m.path, [...(this.fifos.get(m.path) ?? []), openSync(m.path, constants.O_RDWR | constants.O_NONBLOCK)]);
    }
  }

  keepPlanting(): void {
    this.timer = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      this.plant(now - 2, now + 3);
      this.drain();
    }, 20);
  }

  stop(): void {
    clearInterval(this.timer);
    this.drain();
  }

  /** Bytes each FIFO's reader got, for names that got any. */
  bytesRead(): Record<string, number> {
    return Object.fromEntries(this.got);
  }

  /** Targets of the symlinks whose content is no longer what the attacker put there. */
  changedTargets(): string[] {
    return EXTS.map((e) => this.target(e)).filter((t) => readFileSync(t, "utf8") !== "untouched\n");
  }

  /** Closes the readers and removes what was planted (and is still a FIFO or symlink), nothing else. */
  cleanUp(): void {
    this.stop();
    for (const fds of this.fifos.values()) fds.forEach((fd) => closeSync(fd));
    for (const path of this.planted) {
      const st = lstatOrUndefined(path);
      if (st && (st.isFIFO() || st.isSymbolicLink())) rmSync(path, { force: true });
    }
  }

  private drain(): void {
    const buf = Buffer.alloc(65536);
    for (const [path, fds] of this.fifos) {
      for (const fd of fds) {
        for (;;) {
          let n: number;
          try {
            n = readSync(fd, buf);
          } catch {
            break;
          }
          if (n <= 0) break;
          this.got.set(path, (this.got.get(path) ?? 0) + n);
        }
      }
    }
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  return lstatOrUndefined(path) !== undefined;
}
