import { hostOf, runChecked, type Runner } from "../host/runner";
import { parseKeeperList } from "../keeper/keeper";
import { listProcesses } from "../state/process-list";
import { parseTag, TAG_TEXT, type ParsedTag } from "../tag";
import { ownedDirs, stateDirs } from "../state/state-dir";
import { parseTaggedForwards } from "./reap-orphans";

/**
 * How old (by its tag's time) a key or passphrase file must be before a sweep may take it. A
 * create writes them before it starts ssh, so for a while they have no forward yet; no create
 * takes minutes between the two, so one running right now is never swept.
 * @internal exported for its unit tests
 */
export const SECRET_GRACE_SECONDS = 900;

/** A tunnel's secret files, the gateway's ("<tag>.key") and its jump hosts' ("<tag>.hop1.key"). */
const SECRET_FILE = new RegExp(`^(${TAG_TEXT}?)(?:\\.hop\\d+)?\\.(key|pass|askpass)$`);

/** The secret files of one tag found stale, in one directory. */
export interface StaleSecrets {
  tag: ParsedTag;
  files: string[];
}

/**
 * Finds (and unless `dryRun`, removes) key, passphrase and askpass files whose tag no running ssh
 * forward or keeper carries and which are older than SECRET_GRACE_SECONDS: what a killed create, or a
 * forward that died on its own, left behind. Run by creates (sweepStaleSecretsNowAndThen) and by `reap`.
 */
export async function sweepStaleSecrets(
  runner: Runner,
  options: { dryRun?: boolean; wanted?: (tag: ParsedTag) => boolean } = {},
): Promise<StaleSecrets[]> {
  const found = await stateDirs(runner);
  const dirs = ownedDirs(found);
  const script = 'date +%s; for d; do for f in "$d"/pst.*; do [ -f "$f" ] && [ ! -L "$f" ] && echo "$f"; done; done; exit 0';
  const listed = (await runChecked(runner, ["sh", "-c", script, "sh", ...dirs], { what: "list the state directory" })).stdout.trim().split("\n");
  const now = Number(listed.shift());
  // A keeper backing off has no ssh for a while, and needs its key for the next start.
  const live = new Set([
    ...parseTaggedForwards(await listProcesses(runner, "ssh"), found.searched).map((p) => p.tag),
    ...parseKeeperList(await listProcesses(runner, "sh"), found.searched).map((k) => k.tag),
  ]);
  const byTag = new Map<string, StaleSecrets>();
  for (const path of listed) {
    const m = SECRET_FILE.exec(path.slice(path.lastIndexOf("/") + 1));
    const tag = m ? parseTag(m[1]) : undefined;
    if (!tag || live.has(tag.tag) || !(tag.createdUnix < now - SECRET_GRACE_SECONDS) || (options.wanted && !options.wanted(tag))) continue;
    const entry = byTag.get(tag.tag) ?? { tag, files: [] };
    entry.files.push(path);
    byTag.set(tag.tag, entry);
  }
  const stale = [...byTag.values()];
  if (!options.dryRun && stale.length > 0) await runner.run(["rm", "-f", "--", ...stale.flatMap((s) => s.files)]);
  return stale;
}

/** When a create last swept each host (hostOf), in this provider process. */
const lastSwept = new WeakMap<object, number>();
/** How often a create sweeps a host. */
const CREATE_SWEEP_INTERVAL_MS = 60_000;

/**
 * A create's sweep: at most one a minute for each host and provider process. A secret is stale
 * only SECRET_GRACE_SECONDS after its tag's time, so fifty creates of one up sweeping one after
 * the other would find nothing the first did not. A sweep that fails is not counted.
 */
export async function sweepStaleSecretsNowAndThen(runner: Runner, now = Date.now()): Promise<void> {
  const host = hostOf(runner);
  const last = lastSwept.get(host);
  if (last !== undefined && now - last < CREATE_SWEEP_INTERVAL_MS) return;
  lastSwept.set(host, now);
  try {
    await sweepStaleSecrets(runner);
  } catch (err) {
    lastSwept.delete(host);
    throw err;
  }
}
