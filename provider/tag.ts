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
