import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON logs on stderr (stdout is kept for command output such as `status --json`).
 *
 * Logs never carry phone numbers or emails: the code logs seqs, account ids and counts only,
 * and the redaction below is a safety net should an event or entry ever be logged whole.
 * Writes are synchronous so the last lines survive `process.exit` and are in order for
 * whoever tails them.
 */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { service: "optout-sync", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["address", "*.address", "evidence", "*.evidence", "token", "params", "*.params"],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd: destination, sync: true }),
  );
}

/**
 * A loggable summary of an error. Drizzle puts the failed query's parameters — addresses
 * among them — into its error message, so that message is replaced by the driver's own.
 */
export function describeError(error: unknown): { type: string; message: string; details?: unknown } {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const cause = (error as { cause?: unknown }).cause;
  const message = error.message.startsWith("Failed query:")
    ? `database query failed: ${cause instanceof Error ? cause.message : "unknown cause"}`
    : cause instanceof Error
      ? `${error.message} (${cause.message})`
      : error.message;
  const details = (error as { details?: unknown }).details;
  const hasDetails = typeof details === "object" && details !== null && Object.keys(details).length > 0;
  return { type: error.name, message, ...(hasDetails ? { details } : {}) };
}

/** Log fields for an error. Not under pino's `err` key, whose serializer would undo describeError. */
export function errorFields(error: unknown): { error: ReturnType<typeof describeError> } {
  return { error: describeError(error) };
}
