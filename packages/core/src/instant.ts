/**
 * Instants: one stored form, and how far a producer's clock may run ahead of ours.
 */

/**
 * An instant in the one form stored and compared: UTC, millisecond precision
 * (`2026-05-01T12:00:00.000Z`). Because every stored instant has this form, comparing the
 * strings compares the instants. Finer precision is truncated to the millisecond.
 */
export function canonicalInstant(instant: string | number | Date): string {
  const ms = typeof instant === "number" ? instant : new Date(instant).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return new Date(Math.floor(ms)).toISOString();
}

/**
 * How far in the future a given instant may be (producers' clocks drift). Further is refused
 * everywhere an instant comes from outside: the latest `occurredAt` wins (docs/adr/0002), so a
 * change dated 2999 would outrank every real change to its entry until 2999.
 */
export const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

/** Why this instant is too far in the future at `now`, or null. Past instants are fine here. */
export function futureInstantProblem(instant: string, now: Date): string | null {
  const at = Date.parse(instant);
  if (!Number.isFinite(at)) return "not an instant";
  if (at - now.getTime() > MAX_FUTURE_SKEW_MS) {
    return `more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future (clocks may differ by at most that much)`;
  }
  return null;
}
