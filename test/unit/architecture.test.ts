import * as fs from "node:fs";
import * as path from "node:path";

/*
 * The layering docs/architecture.md describes, checked on the sources: a folder may import only
 * folders below it, only host/ starts processes or opens ssh connections, only the engine client
 * (in the Pulumi-facing layer) opens a gRPC connection, and nothing below that layer knows Pulumi.
 */
const ROOT = path.resolve(__dirname, "../../..");
const PROVIDER = path.join(ROOT, "provider");

/** Lowest first. A module may import its own folder, the shared leaves, and folders before its own. */
const LAYERS = [
  "host",
  "validation",
  "state",
  "guard",
  "listener",
  "ssh",
  "firewall",
  "keeper",
  "tunnel",
  "expiry",
  "reap",
  "status",
  "cli",
  "dynamic",
  "resources",
  "plugin",
];
/** Files at provider/ top level that every layer may import. */
const LEAVES = ["errors", "types", "tag", "retry", "recently-shared"];
const BELOW_PULUMI = ["host", "validation", "state", "guard", "listener", "ssh", "firewall", "keeper", "tunnel", "expiry", "reap", "status"];

interface Module {
  file: string;
  folder: string;
  imports: string[];
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function modules(): Module[] {
  return sources(PROVIDER).map((file) => {
    const rel = path.relative(PROVIDER, file);
    const text = fs.readFileSync(file, "utf8");
    const imports = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)"([^"]+)"/g)].map((m) => m[1]);
    return { file: rel, folder: rel.includes("/") ? rel.split("/")[0] : "", imports };
  });
}

/** Where a relative import lands: a folder, or "" with the top-level file's name. */
function target(from: string, spec: string): { folder: string; name: string } {
  const rel = path.relative(PROVIDER, path.resolve(PROVIDER, path.dirname(from), spec));
  return rel.includes("/") ? { folder: rel.split("/")[0], name: rel } : { folder: "", name: rel };
}

/**
 * The imports of `folder`'s modules that reach a folder above it, or a top-level file that is not a
 * shared leaf. dynamic/ may name runtime.ts, the module its serialized closures require.
 */
function backEdges(mods: readonly Module[], folder: string): string[] {
  const allowed = new Set(LAYERS.slice(0, LAYERS.indexOf(folder) + 1));
  return mods
    .filter((m) => m.folder === folder)
    .flatMap((m) => m.imports.filter((s) => s.startsWith(".")).map((s) => ({ m: m.file, t: target(m.file, s) })))
    .filter(({ t }) => (t.folder === "" ? !LEAVES.includes(t.name) && !(folder === "dynamic" && t.name === "runtime") : !allowed.has(t.folder)))
    .map(({ m, t }) => `${m} -> ${t.folder || t.name}`);
}

const all = modules();

describe("provider/ layering", () => {
  it("reads the sources it checks", () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all.some((m) => m.file === "host/runner.ts" && m.imports.length > 0)).toBe(true);
  });

  it.each(LAYERS)("%s/ imports only folders below it and the shared leaves", (folder) => {
    expect(backEdges(all, folder)).toEqual([]);
  });

  it("catches an import from a higher layer (self-test of the rule)", () => {
    const planted = [{ file: "host/runner.ts", folder: "host", imports: ["../tunnel/tunnel-controller", "./quote", "../errors"] }];
    expect(backEdges(planted, "host")).toEqual(["host/runner.ts -> tunnel"]);
  });

  it("only host/ starts processes or opens ssh connections", () => {
    const spawning = /^(execa|ssh2|node:child_process|child_process|node:net|net)$/;
    const bad = all.filter((m) => m.folder !== "host" && m.imports.some((s) => spawning.test(s))).map((m) => m.file);
    expect(bad).toEqual([]);
  });

  it("the shared leaves import no folder (types.ts: only host/'s connection type)", () => {
    const bad = all
      .filter((m) => m.folder === "" && LEAVES.includes(m.file.replace(/\.ts$/, "")))
      .flatMap((m) => m.imports.filter((s) => s.startsWith(".") && target(m.file, s).folder !== "").map((s) => `${m.file} -> ${s}`))
      .filter((edge) => edge !== "types.ts -> ./host/remote-connection");
    expect(bad).toEqual([]);
  });

  it("only the engine client opens a gRPC connection", () => {
    const bad = all.filter((m) => m.imports.some((s) => s.startsWith("@grpc/")) && !m.file.startsWith("dynamic/engine/")).map((m) => m.file);
    expect(bad).toEqual([]);
  });

  it("below the Pulumi-facing layer nothing imports Pulumi, gRPC or the engine client", () => {
    const pulumi = /^(@pulumi\/|@grpc\/)/;
    const bad = all
      .filter((m) => BELOW_PULUMI.includes(m.folder))
      .filter((m) =>
        m.imports.some((s) => pulumi.test(s) || (s.startsWith(".") && ["dynamic", "resources", "cli"].includes(target(m.file, s).folder))),
      )
      .map((m) => m.file);
    expect(bad).toEqual([]);
  });
});
