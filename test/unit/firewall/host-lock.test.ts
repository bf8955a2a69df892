import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildLockedArgv, CHANGED_EXIT, hashListing, FIREWALL_LOCK } from "../../../provider/firewall/host-lock";
import { LocalRunner } from "../../../provider/host/local-runner";
import { exactStdout } from "../../../provider/host/runner";

const runner = new LocalRunner();
const dir = mkdtempSync(path.join(tmpdir(), "pstfw-lock-"));
const lock = path.join(dir, "lock");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: Parameters<typeof buildLockedArgv>) => runner.run(buildLockedArgv(args[0], args[1], lock));

test("one step with no check is a plain flock of that argv, on the one lock every backend shares", () => {
  expect(buildLockedArgv([["ufw", "allow", "80"]])).toEqual(["flock", "-w", "120", FIREWALL_LOCK, "ufw", "allow", "80"]);
});

test("steps run in order under the lock, and their words stay data (no shell parsing)", async () => {
  const marker = path.join(dir, "pwned");
  const weird = ["$(touch " + marker + ")", "`id`", "a b", "'\"", ";", "*", ""];
  const r = await run([
    ["printf", "%s|", ...weird],
    ["printf", "[%s]", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
  ]);
  expect(r).toMatchObject({ exitCode: 0, stdout: weird.map((w) => `${w}|`).join("") + "[1][2][3][4][5][6][7][8][9][10][11]" });
  expect(existsSync(marker)).toBe(false);
});

test("stops at the first failing step with its exit status", async () => {
  const r = await run([
    ["sh", "-c", "exit 3"],
    ["printf", "never"],
  ]);
  expect(r).toMatchObject({ exitCode: 3, stdout: "" });
});

test("stdin reaches the step that reads it", async () => {
  const r = await runner.run(buildLockedArgv([["cat"], ["printf", "!"]], undefined, lock), { input: "ruleset\n" });
  expect(r.stdout).toBe("ruleset\n!");
});

describe("the unchanged-listing guard", () => {
  const file = path.join(dir, "listing");
  beforeEach(() => writeFileSync(file, "table x\n\n"));

  test("runs the steps when the read command still prints what the plan was made from", async () => {
    const r = await run([["printf", "applied"]], { read: ["cat", file], digest: hashListing("table x\n\n") });
    expect(r).toMatchObject({ exitCode: 0, stdout: "applied" });
  });

  test(`runs nothing and exits ${CHANGED_EXIT} when it prints anything else`, async () => {
    writeFileSync(file, "table x\nrule y\n");
    const r = await run([["printf", "applied"]], { read: ["cat", file], digest: hashListing("table x\n\n") });
    expect(r).toMatchObject({ exitCode: CHANGED_EXIT, stdout: "" });
  });

  test("a read that fails with no output matches the digest of nothing (an absent table)", async () => {
    const r = await run([["printf", "applied"]], { read: ["cat", path.join(dir, "absent")], digest: hashListing("") });
    expect(r).toMatchObject({ exitCode: 0, stdout: "applied" });
  });

  test("a listing with bytes that are not UTF-8 (another tool's comment) still matches, read as the bytes it is", async () => {
    writeFileSync(file, Buffer.concat([Buffer.from("-A INPUT -m comment --comment caf"), Buffer.from([0xe9, 0x0a]), Buffer.from("— ☕\n")]));
    const listed = await runner.run(["cat", file]);
    const r = await run([["printf", "applied"]], { read: ["cat", file], digest: hashListing(exactStdout(listed)) });
    expect(r).toMatchObject({ exitCode: 0, stdout: "applied" });
  });
});
