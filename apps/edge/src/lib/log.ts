/**
 * Structured logs: one JSON object per line. Callers pass ids, codes, counts and durations only;
 * never addresses (phone numbers, emails), message text or secrets. Workers Logs indexes the fields.
 */
type Fields = Record<string, string | number | boolean | null | undefined>;

export const log = {
  info: (msg: string, fields: Fields = {}) => console.log(JSON.stringify({ level: "info", msg, ...fields })),
  warn: (msg: string, fields: Fields = {}) => console.warn(JSON.stringify({ level: "warn", msg, ...fields })),
  error: (msg: string, fields: Fields = {}) =>
    console.error(JSON.stringify({ level: "error", msg, ...fields })),
};

/** Only the error's class: storage errors may quote keys, and our keys contain addresses. */
export const errorName = (err: unknown): string => (err instanceof Error ? err.name : typeof err);
