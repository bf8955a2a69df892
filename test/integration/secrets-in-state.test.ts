import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { fetchFrom, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { ROOT, TestStack } from "../support/stack";

/**
 * A user who passes ssh keys and a passphrase as plain strings (fs.readFileSync, no
 * pulumi.secret) to SharedTunnel, FirewallAllow and GatedTunnel (which copies the gateway key into
 * its rule's preflightFor) finds no byte of them in `pulumi stack export`, the state file, or the
 * backend's backups and history, through up, refresh and destroy.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const DIR = path.join(ROOT, "test/programs/secrets-in-state");
const STACK = "it-plain-secrets";
const BASE_PORT = 8460;

/** A passphrase-protected copy of `key` (same public key, so the server still accepts it). */
async function encryptedCopy(key: string, dir: string, passphrase: string): Promise<string> {
  const copy = path.join(dir, path.basename(key));
  copyFileSync(key, copy);
  const r = await local.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", copy]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen -p ${copy} failed: ${r.stderr}`);
  return copy;
}

/** What must never be stored: 40 characters from each line of each key's body, and the whole passphrase. */
function needles(keyFiles: string[], passphrase: string): string[] {
  const slices = keyFiles.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.length >= 40 && !l.startsWith("-----"))
      .map((l) => l.slice(0, 40)),
  );
  return [...slices, passphrase];
}

/**
 * Where any secret occurs in `text`: JSON property paths (a resource named by its URN) when the
 * text is JSON, else "somewhere in <label>". Never the secret itself.
 */
function leaked(text: string, secrets: string[], label = "text"): string[] {
  if (!secrets.some((s) => text.includes(s))) return [];
  try {
    return pathsHolding(JSON.parse(text), secrets, label);
  } catch {
    return [`somewhere in ${label}`];
  }
}

function pathsHolding(value: unknown, secrets: string[], at: string): string[] {
  if (typeof value === "string") return secrets.some((s) => value.includes(s)) ? [at] : [];
  if (!value || typeof value !== "object") return [];
  const named = (value as { urn?: unknown }).urn;
  const here = typeof named === "string" ? named : at;
  return Object.entries(value).flatMap(([k, v]) => pathsHolding(v, secrets, `${here}.${k}`));
}

/** leaked() over every file the backend keeps for `stack`. */
function leakedInBackend(stack: TestStack, secrets: string[]): string[] {
  return stack.storedFiles().flatMap((f) => leaked(readFileSync(f, "utf8"), secrets, path.relative(stack.backend, f)));
}

test("keys and a passphrase given as plain strings stay out of the export, the state, its backups and history", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-plain-secrets-"));
  const stack = new TestStack(STACK, undefined, DIR);
  try {
    const passphrase = `pst-${randomBytes(32).toString("hex")}`;
    const passphraseFile = path.join(dir, "passphrase");
    writeFileSync(passphraseFile, `${passphrase}\n`, { mode: 0o600 });
    const thKey = await encryptedCopy(lab.thKey, dir, passphrase);
    const gwKey = await encryptedCopy(lab.gwKey, dir, passphrase);
    const secrets = needles([thKey, gwKey], passphrase);
    expect(secrets.length).toBeGreaterThan(4);
    expect(readFileSync(thKey, "utf8")).not.toContain(readFileSync(lab.thKey, "utf8").split("\n")[1]);

    const config = {
      tunnelHost: lab.thSshAddr,
      tunnelHostUser: lab.thUser,
      tunnelHostKey: lab.thHostKey,
      tunnelHostKeyFile: thKey,
      gatewayHost: lab.gwAddr,
      gatewayUser: lab.gwUser,
      gatewayHostKey: lab.gwHostKey,
      gatewayKeyFile: gwKey,
      passphraseFile,
      bindAddress: lab.thTrusted,
      basePort: String(BASE_PORT),
      targetHost: lab.targetHost,
      targetPort: String(lab.targetPort),
      source: lab.trustedCidr,
    };
    const up = await stack.run("up", config);
    expect(up.exitCode).toBe(0);
    const out = JSON.parse(up.stdout.trim().split("\n").pop() as string);
    // The encrypted keys really were used: both forwards work, through the gateway, over ssh2.
    expect(await fetchFrom(lab.nsTc, out.sharedUrl)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsTc, out.gatedUrl)).toBe("internal service reached");
    expect(await tunnelHostUfwRules(lab)).toContain(out.ruleTag);
    expect(leaked(up.stdout + up.stderr, secrets, "pulumi up's output")).toEqual([]);

    expect((await stack.run("refresh")).exitCode).toBe(0);
    const exported = await stack.run("export", {}, {}, ["--encrypted"]);
    expect(exported.exitCode).toBe(0);
    expect(exported.stdout).toContain("plain-gated-allow");
    expect(exported.stdout).toContain("ciphertext");
    expect(leaked(exported.stdout, secrets, "stack export")).toEqual([]);
    expect(leakedInBackend(stack, secrets)).toEqual([]);

    expect((await stack.run("destroy")).exitCode).toBe(0);
    // Every checkpoint and update record of up, refresh and destroy, read where the backend keeps them.
    const files = stack.storedFiles().map((f) => path.relative(stack.backend, f));
    expect(files.filter((f) => f.startsWith(".pulumi/backups/")).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith(".pulumi/history/")).length).toBeGreaterThanOrEqual(3);
    expect(leakedInBackend(stack, secrets)).toEqual([]);
    expect(await sshProcessesWith(`.${STACK}.`)).toEqual([]);
  } finally {
    await stack.run("destroy");
    rmSync(dir, { recursive: true, force: true });
  }
});
