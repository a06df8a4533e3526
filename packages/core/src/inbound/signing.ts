/**
 * Signature primitives for webhook verification, on WebCrypto only (Workers and Node ≥ 20).
 * Every comparison of a secret-derived value goes through `timingSafeEqual`.
 */
import { timingSafeEqual } from "../crypto.ts";

export { timingSafeEqual };

const encoder = new TextEncoder();

export type HmacHash = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

export function utf8(input: string): Uint8Array {
  return encoder.encode(input);
}

function bytes(input: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return (typeof input === "string" ? encoder.encode(input) : input) as Uint8Array<ArrayBuffer>;
}

export async function hmac(
  hash: HmacHash,
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<Uint8Array> {
  const k = bytes(key);
  // WebCrypto refuses zero-length HMAC keys; an empty secret is a configuration error anyway.
  if (k.length === 0) throw new Error("empty HMAC key");
  const cryptoKey = await crypto.subtle.importKey("raw", k, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, bytes(data)));
}

export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes(data)));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function base64Encode(data: Uint8Array): string {
  let binary = "";
  for (const b of data) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function base64UrlEncode(data: Uint8Array): string {
  return base64Encode(data).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict, padded base64. Returns null (never throws) for anything else. */
export function base64Decode(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Unpadded base64url (RFC 7515 §2). Returns null for anything else. */
export function base64UrlDecode(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return base64Decode(padded);
}

export function hex(data: Uint8Array): string {
  let out = "";
  for (const b of data) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Compares a received signature with each expected one; true when any matches. Constant time per pair. */
export function matchesAny(received: string, expected: readonly string[]): boolean {
  let ok = false;
  // No early exit: every candidate is compared, so timing does not reveal which one matched.
  for (const e of expected) ok = timingSafeEqual(received, e) || ok;
  return ok;
}
