/**
 * Text the ledger can carry. Every string the edge stores ends up in a hash-chained ledger event
 * that the sync daemon copies into PostgreSQL, whose `text` cannot hold U+0000 and whose `jsonb`
 * rejects `\u0000`; and a UTF-16 code unit without its pair (an unpaired surrogate) is not a
 * character at all: UTF-8 cannot encode it, so any store that re-encodes it changes it (and the
 * event's hash no longer matches). Such text is refused at the boundary, or, where refusing would
 * lose something that matters (an end user's STOP), removed.
 */

// With the `u` flag a well-formed surrogate pair is one code point (U+10000 and up), so this
// class matches exactly the surrogates that have no partner.
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;
const UNPAIRED_SURROGATES = /[\uD800-\uDFFF]/gu;

/** Why this string cannot be stored, or null if it can. */
export function textProblem(value: string): string | null {
  if (value.includes("\u0000")) return "contains U+0000 (NUL), which cannot be stored";
  const lone = UNPAIRED_SURROGATE.exec(value);
  if (lone) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    return `contains an unpaired UTF-16 surrogate (U+${unit}), which is not a character`;
  }
  return null;
}

/** The string without NUL and unpaired surrogates: for text that must never be refused. */
export function cleanText(value: string): string {
  if (textProblem(value) === null) return value;
  return value.replaceAll("\u0000", "").replace(UNPAIRED_SURROGATES, "");
}

export interface TextProblemAt {
  /** Dotted path of the value or key, as zod names paths: `items.3.reason`. */
  path: string;
  problem: string;
}

interface Visit {
  value: unknown;
  /** How this value was reached; the path is built only when a problem is found. */
  parent: Visit | null;
  key: string | number | null;
}

/**
 * The first string in a parsed JSON value — member names included — that cannot be stored, or
 * null. Walks iteratively, so a deeply nested body cannot exhaust the stack.
 */
export function findUnstorableText(value: unknown): TextProblemAt | null {
  const stack: Visit[] = [{ value, parent: null, key: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const current = visit.value;
    if (typeof current === "string") {
      const problem = textProblem(current);
      if (problem) return { path: pathOf(visit), problem };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], parent: visit, key: i });
    } else if (current !== null && typeof current === "object") {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, member] = entries[i]!;
        const child: Visit = { value: member, parent: visit, key };
        const keyProblem = textProblem(key);
        if (keyProblem) return { path: pathOf(child), problem: `member name ${keyProblem}` };
        stack.push(child);
      }
    }
  }
  return null;
}

function pathOf(visit: Visit): string {
  const keys: (string | number)[] = [];
  for (let v: Visit | null = visit; v?.key != null; v = v.parent) keys.push(v.key);
  return keys.length ? keys.reverse().join(".") : "(body)";
}
