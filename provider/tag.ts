/**
 * Tags name what we made on a host: "pst.<stack>.<resource>.<unix seconds>". They go into the ssh
 * process's argv (its -E log path) and into firewall rule comments, so orphans can be found.
 */
export function makeTag(owner: string, createdAt: Date): string {
  const [, stack = "stack", name = "resource"] = owner.split("/");
  return ["pst", clean(stack), clean(name), String(Math.floor(createdAt.getTime() / 1000))].join(".");
}

function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40) || "_";
}
