import { createMiddleware } from "hono/factory";
import { ApiError } from "../../lib/errors.ts";

type Frame =
  | { kind: "array"; index: number }
  | { kind: "object"; keys: Set<string>; key: string; awaitingKey: boolean };

const KEY_SHOWN = 64;

/**
 * The first member of a JSON text whose meaning its parsed value does not keep, as "path: why",
 * or null. Two kinds: a key repeated within one object (JSON.parse keeps the last occurrence,
 * other readers the first, so the text says two things) and a `__proto__` key (assigning it, as
 * zod's records and object spreads do, sets a prototype instead of copying a member, so the member
 * vanishes). Keys are compared decoded: `"re\u0061son"` repeats `"reason"`.
 *
 * `text` must already be valid JSON (see `jsonBody`). One pass, no recursion: depth is bounded by
 * the body's size only.
 */
export function ambiguousMember(text: string): string | null {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const top = stack.at(-1);
    if (ch === "{") {
      stack.push({ kind: "object", keys: new Set(), key: "", awaitingKey: true });
    } else if (ch === "[") {
      stack.push({ kind: "array", index: 0 });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      if (top?.kind === "array") top.index++;
      else if (top) top.awaitingKey = true;
    } else if (ch === '"') {
      const end = stringEnd(text, i);
      if (top?.kind === "object" && top.awaitingKey) {
        const token = text.slice(i, end);
        const key = token.includes("\\") ? (JSON.parse(token) as string) : token.slice(1, -1);
        if (key === "__proto__") return at(stack, 'key "__proto__" is not allowed');
        if (top.keys.has(key)) return at(stack, `duplicate key ${shown(key)}`);
        top.keys.add(key);
        top.key = key;
        top.awaitingKey = false;
      }
      i = end;
      continue;
    }
    // Anything else is whitespace, ':' or part of a number or literal.
    i++;
  }
  return null;
}

/** The index just past the string token that starts at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  // The length bound only guards against text that is not JSON after all.
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\") i += 2;
    else if (ch === '"') return i + 1;
    else i++;
  }
  return text.length;
}

/** "events.0.evidence: why" for the object on top of the stack, like zod's issue paths. */
function at(stack: Frame[], why: string): string {
  const path = stack
    .slice(0, -1)
    .map((frame) => (frame.kind === "array" ? String(frame.index) : shown(frame.key).slice(1, -1)));
  return path.length ? `${path.join(".")}: ${why}` : why;
}

// Keys are the caller's text: quoted, escaped and cut short, never echoed whole.
function shown(key: string): string {
  return JSON.stringify(key.length > KEY_SHOWN ? `${key.slice(0, KEY_SHOWN)}…` : key);
}

/**
 * After `jsonBody`: refuses (400 `invalid_input`) a body in which a member says something its
 * parsed value does not (see `ambiguousMember`). For routes that must act on exactly what was
 * sent, such as a copy of evidence checked against its hashes.
 */
export const unambiguousJson = createMiddleware(async (c, next) => {
  const problem = ambiguousMember(await c.req.text());
  if (problem) throw new ApiError(400, "invalid_input", problem);
  await next();
});
