import type { RunResult, Runner } from "../../../provider/host/runner";
import { parseSsListeners } from "../../../provider/listener/parse-ss";
import { squatterDrift } from "../../../provider/listener/port-holders";

const ok = (stdout: string): RunResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });
/** A host whose ps knows pid 812 (mallory's python3, its argv holding an escape sequence); other pids are gone. */
const host: Runner = {
  where: "root@host:22",
  run: async (argv) =>
    argv.at(-1) === "812" ? ok("mallory                          python3 -m http.server 8080 \x1b]0;pwned\x07\n") : { ...ok(""), exitCode: 1 },
  close: async () => {},
};
const listeners = (lines: string[]) => parseSsListeners(lines.join("\n"));
const SSH = 'LISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("ssh",pid=4242,fd=5))';
const PYTHON = 'LISTEN 0 128 198.51.100.40:8080 0.0.0.0:* users:(("python3",pid=812,fd=3))';

test("our ssh holding the address and port is no drift, nor a listener on another address or port", async () => {
  const other = [
    'LISTEN 0 128 198.51.100.41:8080 0.0.0.0:* users:(("python3",pid=812,fd=3))',
    'LISTEN 0 128 0.0.0.0:8081 0.0.0.0:* users:(("python3",pid=812,fd=3))',
  ];
  expect(await squatterDrift(host, listeners([SSH, ...other]), "198.51.100.40", 8080, 4242)).toBeUndefined();
});

test("another process on the address names its pid, user and command, printable", async () => {
  const drift = await squatterDrift(host, listeners([PYTHON]), "198.51.100.40", 8080, undefined);
  expect(drift).toContain(
    "198.51.100.40:8080 is held by pid 812 (user mallory): python3 -m http.server 8080 \\x1b]0;pwned\\x07, not this tunnel's ssh",
  );
  expect(drift).not.toMatch(/[\x00-\x1f]/);
});

test("a wildcard listener takes the address's connections too; one gone since the listing is said so", async () => {
  const drift = await squatterDrift(
    host,
    listeners(['LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("nc",pid=999,fd=3))']),
    "198.51.100.40",
    8080,
    4242,
  );
  expect(drift).toContain("is held by pid 999 (gone since the listing)");
});

test("a listener ss shows without its process (a user that is not root sees only its own) is still drift", async () => {
  const drift = await squatterDrift(host, listeners(["LISTEN 0 128 198.51.100.40:8080 0.0.0.0:*"]), "198.51.100.40", 8080, undefined);
  expect(drift).toContain("is held by a process this user cannot see");
});
