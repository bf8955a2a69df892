import { readFileSync } from "node:fs";

/**
 * A program of ours that runs on the tunnel host as `sh -c <text>` (a real, linted file of the
 * package), without its leading comment block: the block documents the file and would otherwise
 * travel with every command and fill every trace line. Nothing else of the file is changed.
 */
export function hostScript(path: string): string {
  const lines = readFileSync(path, "utf8").split("\n");
  const first = lines.findIndex((l) => !l.startsWith("#"));
  return lines.slice(first < 0 ? lines.length : first).join("\n");
}
