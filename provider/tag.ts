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

function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40) || "_";
}
