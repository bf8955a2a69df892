import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/*
 * The committed SDKs (sdk/python, sdk/go) are exactly what `npm run gen-sdk` writes from the schema
 * the build just made: a schema change without a regeneration fails here, and so does a hand edit.
 */
const ROOT = path.resolve(__dirname, "../../../..");

function files(dir: string): Map<string, string> {
  const all = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(all.map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), readFileSync(path.join(e.parentPath, e.name), "utf8")]));
}

// The generator is built by setup; built here only when it is missing (a minute, not seconds).
jest.setTimeout(600_000);

test("regenerating the SDKs changes nothing", () => {
  const out = mkdtempSync(path.join(tmpdir(), "pst-gen-sdk-"));
  try {
    execFileSync("bash", [path.join(ROOT, "scripts/gen-sdk.sh"), out], { stdio: ["ignore", "ignore", "inherit"] });
    for (const language of ["python", "go"]) {
      const fresh = files(path.join(out, language));
      const committed = files(path.join(ROOT, "sdk", language));
      expect(fresh.size).toBeGreaterThan(5);
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [name, text] of fresh) expect({ name, text: committed.get(name) }).toEqual({ name, text });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
