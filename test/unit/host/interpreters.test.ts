import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * Every interpreter the provider starts, here or on a tunnel host, runs isolated from the
 * directory it starts in and the caller's environment: `python3 -c` puts the working directory
 * first on sys.path (root's `reap` in a directory another user can write imported their json.py),
 * and perl honours PERL5LIB and PERL5OPT. A new start without the flag fails here.
 */
const PROVIDER = path.resolve(__dirname, "../../../../provider");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    // The host programs too (ufw-batch.sh starts ufw's Python).
    return /\.(ts|sh|py)$/.test(e.name) ? [full] : [];
  });
}

/** Interpreter starts in code and scripts (not in comments): `python3 -c`, `$py -c` (ufw's interpreter), `perl -e`. */
const START = /(?:\bpython3?|\$py|\bperl)\s+(-\S+\s+)*-[ce]\b/g;
const ISOLATED = /^(?:\S*python3?|\$py)\s+-I\s|^perl\s+-T\s/;

test("every python3 and perl we start is isolated (-I, -T)", () => {
  const starts = sources(PROVIDER).flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => !/^\s*(\*|\/\/|#)/.test(line))
      .flatMap((line) => [...line.matchAll(START)].map((m) => `${path.relative(PROVIDER, file)}: ${m[0]}`)),
  );
  expect(starts.length).toBeGreaterThanOrEqual(3);
  expect(starts.filter((s) => !ISOLATED.test(s.split(": ")[1]))).toEqual([]);
});
