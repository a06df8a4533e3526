import type { ConsentEvent, Scope } from "@optout/core";

/**
 * The edge's ledger can hold strings PostgreSQL cannot store as they are: `text` refuses U+0000,
 * `jsonb` refuses the escape `\u0000`, and a UTF-16 surrogate without its pair has no UTF-8 form
 * at all — `jsonb` refuses its escape, and node-postgres and PGlite encode it as U+FFFD without a
 * word, so the row would silently stop hashing to the event's hash. The edge no longer accepts
 * such text, but ledgers already hold some, and every event must sync.
 *
 * So each event is stored twice over only when it must be: the usual columns get its text with
 * U+FFFD (the replacement character, what every UTF-8 decoder shows for such text) in place of
 * each NUL and unpaired surrogate — still good for joins and reading —, and `exact_event` (type
 * `json`, which keeps any `\uXXXX` escape verbatim) gets the event exactly as the edge sealed it.
 * The same holds for an event with a field the columns lack. Events with ordinary text, nearly
 * all of them, leave `exact_event` null and cost nothing more.
 */

// With the `u` flag a well-formed pair is one code point, so the class matches exactly the
// surrogates that have no partner.
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;
const UNPAIRED_SURROGATES = /[\uD800-\uDFFF]/gu;

/** Whether PostgreSQL's `text` and `jsonb` can hold this string exactly. */
export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !UNPAIRED_SURROGATE.test(value);
}

/** The string as the projected columns hold it: U+FFFD for each NUL and unpaired surrogate. */
export function storableText(value: string): string {
  if (isStorableText(value)) return value;
  return value.replaceAll("\u0000", "\uFFFD").replace(UNPAIRED_SURROGATES, "\uFFFD");
}

/** Whether every string in a JSON value, member names included, is storable. */
function isStorableJson(value: unknown): boolean {
  if (typeof value === "string") return isStorableText(value);
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) return value.every(isStorableJson);
  for (const [name, member] of Object.entries(value)) {
    if (!isStorableText(name) || !isStorableJson(member)) return false;
  }
  return true;
}

/**
 * A JSON value with every string made storable. Objects are rebuilt with Object.fromEntries,
 * which defines own properties: a member named `__proto__` stays a member.
 */
function storableJson(value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(storableJson);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
}

function storableScope(scope: Scope): Scope {
  return scope.type === "sender" ? { type: "sender", sender: storableText(scope.sender) } : scope;
}

/** The event fields `ledger_events` has a column for (`scope` also gives `scope_key`). */
const COLUMN_FIELDS = new Set([
  "seq",
  "id",
  "accountId",
  "address",
  "channel",
  "scope",
  "action",
  "source",
  "occurredAt",
  "recordedAt",
  "evidence",
  "prevHash",
  "hash",
  "accountSeq",
]);

/**
 * Whether the plain columns can hold the event exactly (so `exact_event` stays null): its text
 * is storable, and it has no field they lack (one a newer edge added, which its hash covers).
 */
export function isStorableEvent(e: ConsentEvent): boolean {
  for (const [field, value] of Object.entries(e)) {
    if (value !== undefined && !COLUMN_FIELDS.has(field)) return false;
  }
  // The other fields are enums, instants and hex hashes, checked by the edge client's schema.
  return (
    isStorableText(e.id) &&
    isStorableText(e.accountId) &&
    isStorableText(e.address) &&
    (e.scope.type !== "sender" || isStorableText(e.scope.sender)) &&
    isStorableJson(e.evidence)
  );
}

export interface StoredEvent {
  /** What the plain columns hold: the event itself, or its storable projection. */
  columns: ConsentEvent;
  /** The event exactly as sealed, when the columns cannot hold it; null otherwise. */
  exact: ConsentEvent | null;
}

/**
 * How one ledger event is written (see the module comment). Blocklist entries and chain heads
 * take their text from `columns` too, so every table agrees on an account's or an address's
 * stored form.
 */
export function storedEvent(e: ConsentEvent): StoredEvent {
  if (isStorableEvent(e)) return { columns: e, exact: null };
  return {
    columns: {
      ...e,
      id: storableText(e.id),
      accountId: storableText(e.accountId),
      address: storableText(e.address),
      scope: storableScope(e.scope),
      evidence: storableJson(e.evidence) as ConsentEvent["evidence"],
    },
    exact: e,
  };
}
