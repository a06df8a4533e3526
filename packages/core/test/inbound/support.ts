/**
 * Test-only signers written independently of src/, on node:crypto, so a test proves the
 * production code agrees with a second reading of each provider's scheme.
 */
import { createHash, createHmac } from "node:crypto";
import type { WebhookRequest } from "../../src/index.ts";

export const NOW = 1_700_000_000;
export const NOW_ISO = new Date(NOW * 1000).toISOString();

export function post(url: string, body: string, headers: Record<string, string> = {}): WebhookRequest {
  return { method: "POST", url, headers, body };
}

export function get(url: string, headers: Record<string, string> = {}): WebhookRequest {
  return { method: "GET", url, headers, body: "" };
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function hmacB64(alg: string, key: string | Buffer, data: string | Buffer): string {
  return createHmac(alg, key).update(data).digest("base64");
}

export function hmacHex(alg: string, key: string | Buffer, data: string | Buffer): string {
  return createHmac(alg, key).update(data).digest("hex");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function basic(userPass: string): string {
  return `Basic ${Buffer.from(userPass).toString("base64")}`;
}

export function jwtHs(
  alg: "HS256" | "HS384" | "HS512",
  secret: string,
  claims: Record<string, unknown>,
): string {
  const b64u = (s: string | Buffer) => Buffer.from(s).toString("base64url");
  const head = b64u(JSON.stringify({ alg, typ: "JWT" }));
  const body = b64u(JSON.stringify(claims));
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  const sig = createHmac(hash, secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** Flips one character in the middle of a string, keeping its length. */
export function tamper(text: string): string {
  const i = Math.floor(text.length / 2);
  const c = text[i] === "a" ? "b" : "a";
  return text.slice(0, i) + c + text.slice(i + 1);
}
