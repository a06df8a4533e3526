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

// Addresses as they may appear inside driver messages: E.164-ish digit runs and emails.
const PHONE_LIKE = /\+?\d[\d\s().-]{6,}\d/g;
const EMAIL_LIKE = /[^\s@,;:'"<>()]+@[^\s@,;:'"<>()]+/g;

/**
 * An error as text that is safe to log. drizzle's query errors quote the bound parameters
 * ("Failed query: … params: +14155550100,…"), and those can be addresses or message text, so the
 * parameter list is cut off and anything shaped like a phone number or email is masked.
 */
export function safeErrorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text
    .replace(/\bparams:[\s\S]*$/i, "params: [redacted]")
    .replace(EMAIL_LIKE, "[email]")
    .replace(PHONE_LIKE, "[number]");
}
