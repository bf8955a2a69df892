import { isDeepStrictEqual } from "node:util";
import type { ConnectionArgs } from "../types";

/**
 * Connection fields whose change replaces a resource: another host, or another user's processes
 * and rules. A sudo change is one: an unprivileged delete could neither stop root's ssh nor remove
 * root's rule, so the old one is deleted with the privileges it was made with. Not jumpHosts or
 * agent: another way to the same host and user reaches the same processes and rules (an update).
 */
export const CONNECTION_REPLACES = ["connection", "connection.host", "connection.port", "connection.user", "connection.sudo"];

/** The connection as diff compares it: sudo omitted is sudo false, no jump hosts is jumpHosts omitted. */
export function comparableConnection(c: ConnectionArgs | undefined): ConnectionArgs | undefined {
  if (c === null || typeof c !== "object") return c;
  const { jumpHosts, ...rest } = c;
  const hops = jumpHosts === undefined || (Array.isArray(jumpHosts) && jumpHosts.length === 0) ? {} : { jumpHosts };
  return { ...rest, ...hops, sudo: c.sudo === true };
}

/**
 * Dotted paths ("gateway.host") whose values differ between olds and news, one level into
 * nested objects, skipping `ignore`d top-level keys.
 */
export function changedPaths(olds: object, news: object, keys: string[], ignore: string[] = []): string[] {
  const o = olds as Record<string, unknown>;
  const n = news as Record<string, unknown>;
  const paths: string[] = [];
  for (const key of new Set(keys)) {
    if (ignore.includes(key) || isDeepStrictEqual(o[key], n[key])) continue;
    const a = o[key];
    const b = n[key];
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (!isDeepStrictEqual(a[sub], b[sub])) paths.push(`${key}.${sub}`);
      }
    } else {
      paths.push(key);
    }
  }
  return paths;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
