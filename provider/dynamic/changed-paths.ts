import { isDeepStrictEqual } from "node:util";

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
