import { CorruptStateError } from "../errors";

/**
 * read's saved state, which the SDK types as optional (a resource imported by id alone has none).
 * These resources are only ever read from state they wrote, so none is a state nothing can be
 * checked against: refused before anything runs on the host.
 */
export function savedState<T>(props: T | undefined, type: "SharedTunnel" | "FirewallAllow"): T {
  if (props !== undefined) return props;
  throw new CorruptStateError("the saved state holds no properties", {
    what: `use the saved state of ${type}`,
    hint: "create the resource with pulumi up: it can only be read from the state its create wrote",
  });
}
