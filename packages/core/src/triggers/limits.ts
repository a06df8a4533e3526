/** How long a `not_opened` rule may wait. Its own module: rules and events both bound by it. */

/** One minute: the Cron Trigger runs once a minute, so a shorter wait could not be kept. */
export const MIN_WITHIN_SECONDS = 60;
/** 30 days. */
export const MAX_WITHIN_SECONDS = 30 * 24 * 60 * 60;

/**
 * The most `not_opened` deadlines one request may schedule (its events × the rules they start).
 * A request past it is refused, so no single request can fill the deadline table faster than
 * the cron settles it.
 */
export const MAX_DEADLINES_PER_REQUEST = 10_000;
