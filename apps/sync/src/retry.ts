import { classifyError, type ErrorKind, isAbort } from "./errors.ts";
import { errorFields, type Logger } from "./log.ts";

export interface RetryPolicy {
  /** First delay's upper bound. */
  baseDelayMs: number;
  /** No delay is ever longer than this. */
  maxDelayMs: number;
  /** Attempts in total before giving up; Infinity for a daemon that should outlast an outage. */
  maxAttempts: number;
}

/**
 * Capped exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(max, base·2ⁿ)). Jitter keeps many daemons from retrying in lockstep after an outage.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export interface RetryHooks {
  log: Logger;
  signal?: AbortSignal;
  onRetry?: (kind: ErrorKind, attempt: number, delayMs: number) => void;
}

/**
 * Runs `step` until it succeeds, a fatal error occurs, attempts run out, or `signal` aborts.
 * Returns undefined when stopped by the signal. Each retry is logged as a warning with its
 * kind; the step must be safe to repeat (ours are: they re-read the cursor first).
 */
export async function withRetry<T>(
  step: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    if (hooks.signal?.aborted) return undefined;
    try {
      return await step();
    } catch (e) {
      if (isAbort(e, hooks.signal)) return undefined;
      const { kind, retryable } = classifyError(e);
      if (!retryable || attempt + 1 >= policy.maxAttempts) throw e;
      const delayMs = backoffDelay(attempt, policy);
      hooks.onRetry?.(kind, attempt + 1, delayMs);
      hooks.log.warn(
        { kind, attempt: attempt + 1, delayMs, ...errorFields(e) },
        "sync step failed; retrying",
      );
      await sleep(delayMs, hooks.signal);
    }
  }
}
