/**
 * Where a slow step's progress line goes ("waiting for the listener"). The Pulumi-facing layer
 * supplies one per resource call (the line lands on that resource's row of `pulumi up`), so no
 * layer below it knows Pulumi; best effort: it returns at once and never fails the step.
 */
export type Report = (message: string) => void;

/** For runs no resource asked for (tests, the reaper): progress goes nowhere. */
export const silent: Report = () => undefined;
