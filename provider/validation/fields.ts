import type { InputFailure } from "../errors";
import { isUnspecified, parseAddress } from "./net";

/**
 * Pulumi's placeholder for a value not known until apply; preview lets it through.
 * @internal exported for its unit tests
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A last label inet_aton reads as a number: decimal, 0-octal or 0x-hex. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/** "a, b or c" (a list of one is itself). */
export function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

/** Collects failures for one resource's inputs; each names the property. */
export class Failures {
  readonly list: InputFailure[] = [];

  add(property: string, reason: string): void {
    this.list.push({ property, reason });
  }

  port(property: string, value: unknown, required = true): void {
    if (isUnknown(value) || (value === undefined && !required)) return;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
      this.add(property, `must be a whole number from 1 to 65535, got ${JSON.stringify(value)}`);
    }
  }

  /** `self`: what 127.0.0.1 names from where this host is connected to ("the gateway itself"). */
  host(property: string, value: unknown, self: string): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || value === "") return this.add(property, "is required");
    const parsed = parseAddress(value);
    if (typeof parsed !== "string") {
      // Connecting to 0.0.0.0 or :: reaches the local machine on Linux, by accident rather than by name.
      if (isUnspecified(parsed))
        this.add(property, `${value} is the unspecified address, not a host; use 127.0.0.1 (or ::1) for ${self}, or the host's own address`);
      return;
    }
    if (!HOSTNAME.test(value)) return this.add(property, `${JSON.stringify(value)} is neither a host name nor an address (${parsed})`);
    // getaddrinfo tries inet_aton before DNS, and inet_aton reads 017.0.0.1 as 15.0.0.1 and
    // 0x7f.1 or 2130706433 as 127.0.0.1: such a "name" connects somewhere other than it says.
    if (NUMERIC_LAST_LABEL.test(value)) {
      this.add(
        property,
        `${JSON.stringify(value)} is not an a.b.c.d address, and resolvers would read it as one in octal, hex or short form; write four decimal numbers, or use a host name`,
      );
    }
  }

  user(property: string, value: unknown): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || !USER.test(value)) {
      this.add(property, `must be a user name (letters, digits, _ . -; not starting with - or a digit), got ${JSON.stringify(value)}`);
    }
  }

  hostKey(property: string, value: unknown): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || hostKeyReason(value) !== undefined) {
      this.add(property, hostKeyReason(String(value)) ?? "is required");
    }
  }

  path(property: string, value: unknown): void {
    if (isUnknown(value) || value === undefined) return;
    if (typeof value !== "string" || !value.startsWith("/") || /[\0\n\r]/.test(value) || value.length > 4096) {
      this.add(property, "must be an absolute path without newlines");
    }
  }

  /**
   * A path ssh reads through `-o IdentityFile=...`: its config parser splits that on whitespace,
   * strips quotes and backslashes, and expands %-tokens and ${VAR} (ssh_config(5)), so a path with
   * any of them would make ssh load a different file than the one named.
   */
  sshConfigPath(property: string, value: unknown): void {
    const before = this.list.length;
    this.path(property, value);
    if (this.list.length === before && typeof value === "string" && /[\s"'\\%]|\$\{/.test(value)) {
      this.add(property, "must not contain whitespace, quotes, backslashes, % or ${ (ssh's config parser would read another path)");
    }
  }

  positiveInt(property: string, value: unknown, max: number): void {
    if (isUnknown(value) || value === undefined) return;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      this.add(property, `must be a whole number from 1 to ${max}`);
    }
  }

  boolean(property: string, value: unknown): void {
    if (isUnknown(value) || value === undefined) return;
    if (typeof value !== "boolean") this.add(property, "must be true or false");
  }
}

/** Why a pinned host key line is not usable, or undefined when it is. */
export function hostKeyReason(line: string): string | undefined {
  const parts = line.trim().split(/ +/);
  if (/[\0\n\r]/.test(line) || parts.length < 2) return 'must be a public key line such as "ssh-ed25519 AAAA..."';
  const [type, blob] = parts;
  if (!KEY_TYPES.includes(type)) return `key type ${JSON.stringify(type)} is not one of ${KEY_TYPES.join(", ")}`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "the key is not base64";
  // The blob starts with its own type name; a pasted key of another type or a truncated one fails here.
  const raw = Buffer.from(blob, "base64");
  const len = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
  if (len !== type.length || raw.subarray(4, 4 + len).toString() !== type) return "the key data does not match its type";
  return undefined;
}

/** "ssh-ed25519 AAAA..." without any trailing comment. */
export function normalizeHostKey(line: string): string {
  return line.trim().split(/ +/).slice(0, 2).join(" ");
}
