/**
 * Small WebCrypto helpers that run unchanged in Workers, Node ≥ 20 and browsers.
 * No node:* imports: `crypto` is the global WebCrypto object everywhere we run.
 */

const encoder = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const b of view) out += b.toString(16).padStart(2, "0");
  return out;
}

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  return toHex(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
}

/**
 * Compares two secrets in time that depends only on their lengths, never on where they first
 * differ. Length itself is not secret for our tokens (fixed formats).
 */
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === "string" ? encoder.encode(a) : a;
  const y = typeof b === "string" ? encoder.encode(b) : b;
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * `length` characters drawn uniformly from base62 by a CSPRNG. Rejection sampling (bytes ≥ 248
 * are discarded) keeps every character equally likely: 248 = 4 × 62.
 */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    // getRandomValues refuses more than 65,536 bytes per call.
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(65_536, (length - out.length) * 2)));
    for (const b of bytes) {
      if (b >= 248) continue;
      out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Prefixed random identifier, e.g. `acc_3kTq...`. 22 base62 characters = 130 bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(22)}`;
}

export type KeyMode = "live" | "test";

/** An account API key: `sk_live_` or `sk_test_` + 32 base62 characters (190 bits). */
export function generateApiKey(mode: KeyMode): string {
  return `sk_${mode}_${randomBase62(32)}`;
}

export const API_KEY_FORMAT = /^sk_(live|test)_[0-9A-Za-z]{32}$/;

// Imported HMAC keys, per secret: importKey is the costly part of an HMAC, and a deployment has
// one or two secrets. Holding a CryptoKey is not I/O; it is what WebCrypto hands back.
const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    if (hmacKeys.size >= 16) hmacKeys.clear();
    hmacKeys.set(secret, key);
  }
  return key;
}

/** HMAC-SHA256 of `message` under `secret`, as hex. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/**
 * A keyed pseudonym: HMAC-SHA256(secret, `${purpose}:${value}`). Without the secret it cannot be
 * reversed by trying every value (a bare SHA-256 of an IPv4 address falls to 2^32 guesses), and
 * the purpose keeps one use's pseudonyms from matching another's.
 */
export function keyedHash(secret: string, purpose: string, value: string): Promise<string> {
  return hmacSha256Hex(secret, `${purpose}:${value}`);
}
