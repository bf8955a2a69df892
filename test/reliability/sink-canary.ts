/**
 * Accepted-but-odd values for the real sink (a `pulumi up` onto the lab's tunnel host) and the
 * canary that would catch them being run as code there: each payload, read by a shell as code,
 * touches a file named after its value and the mechanism that ran it, in a directory of its own
 * (the lab's hosts share this machine's /tmp, so the test reads the tunnel host's files directly).
 */
import { probe, type Lab } from "../support/lab";
import type { Runner } from "../../provider/host/runner";

export const CANARY_DIR = `/tmp/pst-sink-canary-${process.pid}`;

/** The mechanisms a spaced payload carries; each fires in at least one naive rendering. */
export const SPACED = ["subst", "backtick", "semicolon", "pipe", "redirect", "squote", "dquote"];
/** The mechanisms a payload without whitespace or quotes carries (a key path may hold no more). */
export const COMPACT = ["subst", "backtick", "semicolon", "pipe", "redirect"];

/**
 * A value with spaces and quotes: command substitution, backticks, `;`, a pipe and a redirect
 * (live unquoted), and quote break-outs (live inside naive single or double quotes).
 */
export function spacedPayload(value: string): string {
  const t = (how: string) => `touch ${CANARY_DIR}/${value}-${how}`;
  return `x $(${t("subst")}) \`${t("backtick")}\`; ${t("semicolon")} | ${t("pipe")} > ${CANARY_DIR}/${value}-redirect; : '; ${t("squote")}; ' "; ${t("dquote")}; "`;
}

/** The same without whitespace, quotes or `${` (what gateway.privateKeyPath accepts): `$IFS` splits the words. */
export function compactPayload(value: string): string {
  const t = (how: string) => `touch$IFS${CANARY_DIR}/${value}-${how}`;
  return `k$(${t("subst")})\`${t("backtick")}\`;${t("semicolon")}|${t("pipe")}>${CANARY_DIR}/${value}-redirect`;
}

/** The files `value`'s payload creates when run as code, for the mechanisms given. */
export function canariesOf(value: string, mechanisms: string[]): string[] {
  return mechanisms.map((how) => `${value}-${how}`).sort();
}

/**
 * Runs `text` as code through `runner` (the tunnel host's long-lived shell session), rendered the
 * ways a quoting bug would: unquoted, in single quotes, in double quotes.
 */
export async function runAsCode(runner: Runner, text: string): Promise<void> {
  for (const rendered of [text, `'${text}'`, `"${text}"`]) await runner.run(["sh", "-c", `printf '%s\\n' ${rendered}`]);
}

/** The canary files on the tunnel host, read there (the read itself checked). */
export async function canaries(lab: Lab): Promise<string[]> {
  return (await probe(lab.nsTh, ["ls", "-A", CANARY_DIR])).split("\n").filter(Boolean).sort();
}
