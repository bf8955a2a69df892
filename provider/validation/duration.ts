import type { Failures } from "./fields";
import { isUnknown } from "./fields";

/** Longest expiry we accept: a "temporary" path left open for more than a year is not one. */
const MAX_EXPIRY_SECONDS = 366 * 24 * 3600;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds in an expiresAfter value: a whole number of seconds, or a string of <n>s|m|h|d parts
 * ("1h30m", "90s"), each unit at most once and largest first. A string (the reason) when it is not one.
 */
export function parseDuration(value: unknown): number | string {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 1) return `must be a whole number of seconds (1 or more), got ${JSON.stringify(value)}`;
    return value <= MAX_EXPIRY_SECONDS ? value : `is longer than ${MAX_EXPIRY_SECONDS} seconds (366 days)`;
  }
  if (typeof value !== "string") return `must be seconds or a duration such as "1h30m", got ${JSON.stringify(value)}`;
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!m || value === "") return `${JSON.stringify(value)} is not a duration: use <n>s, <n>m, <n>h, <n>d parts, largest first, such as "1h30m"`;
  const [, d, h, min, s] = m;
  const seconds = [
    [d, "d"],
    [h, "h"],
    [min, "m"],
    [s, "s"],
  ].reduce((sum, [n, unit]) => sum + Number(n ?? 0) * UNIT_SECONDS[unit], 0);
  if (seconds < 1) return `${JSON.stringify(value)} is zero; an expiry must be in the future`;
  return seconds <= MAX_EXPIRY_SECONDS ? seconds : `${JSON.stringify(value)} is longer than 366 days`;
}

/**
 * The instant in an expiresAt value (ISO 8601 with a date, a time and a zone), or the reason it is not one.
 * @internal exported for its unit tests
 */
export function parseTimestamp(value: unknown): Date | string {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  if (typeof value !== "string" || !iso.test(value)) {
    return `must be an ISO 8601 time with a zone, such as "2030-01-31T18:00:00Z", got ${JSON.stringify(value)}`;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? `${JSON.stringify(value)} is not a valid date` : date;
}

/** What expiry the inputs ask for: none, a duration from now, or a fixed instant. */
export type ExpiryRequest = { kind: "none" } | { kind: "after"; seconds: number } | { kind: "at"; unix: number };

export interface ExpiryInputs {
  expiresAfter?: number | string;
  expiresAt?: string;
}

/** Reads validated expiry inputs (validation has refused both at once and bad values). */
export function readExpiryRequest(inputs: ExpiryInputs): ExpiryRequest {
  if (inputs.expiresAfter !== undefined) {
    const seconds = parseDuration(inputs.expiresAfter);
    if (typeof seconds === "number") return { kind: "after", seconds };
  }
  if (inputs.expiresAt !== undefined) {
    const at = parseTimestamp(inputs.expiresAt);
    if (typeof at !== "string") return { kind: "at", unix: Math.floor(at.getTime() / 1000) };
  }
  return { kind: "none" };
}

/**
 * Adds expiry failures, with no I/O and no clock: a deadline in the past is refused at create or
 * update, on the tunnel host's clock, so a preview never depends on when it ran.
 */
export function checkExpiry(f: Failures, inputs: ExpiryInputs): void {
  const { expiresAfter, expiresAt } = inputs;
  if (expiresAfter !== undefined && expiresAt !== undefined && !isUnknown(expiresAfter) && !isUnknown(expiresAt)) {
    f.add("expiresAfter", "set expiresAfter or expiresAt, not both");
    return;
  }
  if (expiresAfter !== undefined && !isUnknown(expiresAfter)) {
    const seconds = parseDuration(expiresAfter);
    if (typeof seconds === "string") f.add("expiresAfter", seconds);
  }
  if (expiresAt !== undefined && !isUnknown(expiresAt)) {
    const at = parseTimestamp(expiresAt);
    if (typeof at === "string") f.add("expiresAt", at);
  }
}
