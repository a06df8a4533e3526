/** Statuses that mean "not now, nothing was done": the only answers retried. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** A `Retry-After` longer than this is not waited out: the call fails and the caller decides. */
export const MAX_RETRY_AFTER_MS = 60_000;

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 8_000;

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, a wait until then; a date in the past is 0). Undefined when
 * absent or unreadable (RFC 9110 §10.2.3).
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would read "-1" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  // The obsolete asctime form has no zone, and means GMT (not the runtime's local time).
  const at = Date.parse(/GMT$/i.test(text) ? text : `${text} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` (1, 2, ...) when the server named none: exponential, capped,
 * with "equal jitter" (half fixed, half random) so that clients failed together do not return together.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
