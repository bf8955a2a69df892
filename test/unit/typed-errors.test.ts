import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { InternalError, RunnerError, SharedTunnelError, UnsafeValueError, UsageError } from "../../provider/errors";
import { openBackend } from "../../provider/firewall/firewall-controller";
import { assertTag } from "../../provider/tag";
import { buildLockedArgv } from "../../provider/firewall/host-lock";
import { renderNftRemove } from "../../provider/firewall/nft-rules";
import { LocalRunner } from "../../provider/host/local-runner";
import { quoteArgv } from "../../provider/host/quote";
import { parseReapArgs } from "../../provider/cli/reap";

// Compiled into dist/test/unit: the sources are three levels up.
const PROVIDER = path.resolve(__dirname, "../../../provider");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

test("no provider source makes an untyped Error: every thrown error is a SharedTunnelError", () => {
  const files = sources(PROVIDER);
  expect(files.length).toBeGreaterThan(50);
  const untyped = files.flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .map((line, i) => ({ where: `${path.relative(PROVIDER, file)}:${i + 1}`, line: line.trim() }))
      .filter(({ line }) => /\bnew (Error|TypeError|RangeError)\s*\(|\bthrow\s+["'`]/.test(line))
      .map(({ where, line }) => `${where}: ${line}`),
  );
  expect(untyped).toEqual([]);
});

test("internal guards throw typed errors that keep their message", async () => {
  expect(() => quoteArgv([])).toThrow(InternalError);
  expect(() => quoteArgv([])).toThrow(/quoteArgv: empty argv/);
  expect(() => quoteArgv(["echo", "a\x1bb"])).toThrow(UnsafeValueError);
  expect(() => buildLockedArgv([[]])).toThrow(InternalError);
  expect(() => assertTag("a b")).toThrow(UnsafeValueError);
  expect(() => renderNftRemove([0], false)).toThrow(UnsafeValueError);
  await expect(openBackend(new LocalRunner(), "pf" as "ufw")).rejects.toThrow(InternalError);
  for (const make of [() => quoteArgv([]), () => assertTag("a b")]) {
    try {
      make();
    } catch (err) {
      expect(err).toBeInstanceOf(SharedTunnelError);
      expect((err as SharedTunnelError).hint).toBeTruthy();
    }
  }
});

test("a command that cannot start is a RunnerError carrying the exact command", async () => {
  const argv = ["/nonexistent/binary", "it's", "a b"];
  const err = await new LocalRunner().run(argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunnerError);
  expect(err).toMatchObject({ where: "local", command: quoteArgv(argv) });
  expect((err as Error).message).toContain(`  command: ${quoteArgv(argv)}`);
});

test("a CLI usage error is typed and keeps its one-line reason for the usage text", () => {
  let err: unknown;
  try {
    parseReapArgs(["--force\x1b[2J"]);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).reason).toBe(`unknown argument ${JSON.stringify("--force\x1b[2J")}`);
  expect((err as UsageError).reason).not.toMatch(/[\x00-\x1f]/);
});
