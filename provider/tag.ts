import { createHash } from "node:crypto";

/**
 * Tags name what we made on a host: "pst.<project>.<stack>.<resource>.<unix seconds>". They go
 * into the ssh process's argv (its -E log path) and into firewall rule comments, so orphans can
 * be found: everything carrying a resource's owner prefix and not recorded in its state is one.
 */
export function makeTag(owner: string, createdAt: Date): string {
  return ownerPrefix(owner) + String(Math.floor(createdAt.getTime() / 1000));
}

/** "pst.<project>.<stack>.<resource>." for owner "project/stack/resource" (names may hold "/"). */
export function ownerPrefix(owner: string): string {
  const [project = "project", stack = "stack", ...name] = owner.split("/");
  return ["pst", clean(project), clean(stack), clean(name.join("/") || "resource"), ""].join(".");
}

/** The parts of a tag "pst.<project>.<stack>.<resource>.<unix seconds>". */
export interface ParsedTag {
  tag: string;
  project: string;
  stack: string;
  resource: string;
  createdUnix: number;
}

/** Reads a tag, or undefined for anything that is not one of ours (names are [A-Za-z0-9_-] after cleaning). */
export function parseTag(tag: string): ParsedTag | undefined {
  const m = /^pst\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.(\d{9,11})$/.exec(tag);
  return m ? { tag, project: m[1], stack: m[2], resource: m[3], createdUnix: Number(m[4]) } : undefined;
}

/**
 * Reads an owner prefix "pst.<project>.<stack>.<resource>." (what ownerPrefix makes), or undefined.
 * A prefix selects every forward and rule of one resource: anything shorter ("pst.") would select
 * those of every resource on the host.
 */
export function parseOwnerPrefix(prefix: string): Omit<ParsedTag, "tag" | "createdUnix"> | undefined {
  const m = /^pst\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.$/.exec(prefix);
  return m ? { project: m[1], stack: m[2], resource: m[3] } : undefined;
}

/**
 * A name as tag-safe text ([A-Za-z0-9_-]). When that changed or shortened it, a short hash of the
 * original keeps distinct names distinct ("web.1" and "web_1", or two long names with one
 * beginning): the orphan reaper relies on one resource's prefix never being another's.
 */
function clean(part: string): string {
  const safe = part.replace(/[^A-Za-z0-9_-]/g, "_");
  if (safe === part && part.length > 0 && part.length <= 40) return part;
  return `${safe.slice(0, 31)}-${createHash("sha256").update(part).digest("hex").slice(0, 8)}`;
}
