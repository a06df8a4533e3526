/**
 * Test-only signers for the email providers' schemes, written independently of src/ on node:crypto
 * (and a small DER writer for a self-signed X.509 certificate, which node cannot mint), so each
 * test proves the production code agrees with a second reading of the provider's docs.
 */
import {
  createHmac,
  createSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import type { WebhookRequest } from "../../src/index.ts";

export { basic, NOW, post, tamper } from "../inbound/support.ts";

export const EVENTS_URL = "https://optout.example.com/events/x/acc_123";

export function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

export function withHeaders(request: WebhookRequest, headers: Record<string, string>): WebhookRequest {
  return { ...request, headers: { ...(request.headers as Record<string, string>), ...headers } };
}

// SendGrid: ECDSA P-256 / SHA-256 over timestamp + body, DER signature in base64.
export function ecKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { spki, pem, privateKey, publicKey };
}

export function sendgridSignature(privateKey: KeyObject, timestamp: string, body: string): string {
  // node's default ECDSA encoding is DER, which is what SendGrid sends.
  return createSign("sha256")
    .update(timestamp + body)
    .sign(privateKey, "base64");
}

// Mailgun: hex HMAC-SHA256(key, timestamp + token).
export function mailgunSignature(key: string, timestamp: string, token: string): string {
  return createHmac("sha256", key)
    .update(timestamp + token)
    .digest("hex");
}

// Svix (Resend): base64 HMAC-SHA256(base64-decoded secret, `${id}.${timestamp}.${body}`).
export function svixSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}

// Amazon SNS: the documented canonical string, signed RSA-SHA1 (v1) or RSA-SHA256 (v2).
export function snsCanonical(fields: Record<string, string | undefined>): string {
  const order =
    fields.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return order
    .filter((key) => fields[key] !== undefined)
    .map((key) => `${key}\n${fields[key]}\n`)
    .join("");
}

export function snsSigned(
  fields: Record<string, string | undefined>,
  privateKey: KeyObject,
  version: "1" | "2" = "2",
  certUrl = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000000a.pem",
): Record<string, string | undefined> {
  const signature = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256")
    .update(snsCanonical(fields), "utf8")
    .sign(privateKey, "base64");
  return { ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: certUrl };
}

// --- a minimal DER writer, enough for a self-signed certificate ---
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const groups: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}
function time(date: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  const body = `${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  const year = date.getUTCFullYear();
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050
    ? tlv(0x17, Buffer.from(p(year % 100) + body))
    : tlv(0x18, Buffer.from(String(year) + body));
}

export interface CertificateOptions {
  publicKey: KeyObject;
  /** The key that signs the certificate (self-signed: the subject's own). */
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** A self-signed X.509 v3 certificate for `sns.amazonaws.com`, PEM, checked by node's own parser. */
export function certificate({ publicKey, signingKey, notBefore, notAfter }: CertificateOptions): string {
  const rsa = signingKey.asymmetricKeyType === "rsa";
  const algorithm = seq(
    oid(rsa ? "1.2.840.113549.1.1.11" : "1.2.840.10045.4.3.2"),
    ...(rsa ? [Buffer.from([0x05, 0x00])] : []),
  );
  const name = seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from("sns.amazonaws.com")))));
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, signingKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${der
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n")}\n-----END CERTIFICATE-----\n`;
  // A second reading: node must parse it, with this key and these dates.
  const parsed = new X509Certificate(pem);
  if (!parsed.publicKey.equals(publicKey)) throw new Error("test certificate does not hold its key");
  return pem;
}

export function rsaKeyPair() {
  return generateKeyPairSync("rsa", { modulusLength: 2048 });
}
