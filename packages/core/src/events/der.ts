/**
 * The little ASN.1 DER that webhook verification needs, on bytes only: ECDSA signatures from DER
 * to the IEEE P1363 form WebCrypto verifies (SendGrid), and the public key and validity of an
 * X.509 certificate (Amazon SNS), which WebCrypto cannot import directly. Every reader checks
 * bounds and throws `Error` on anything malformed; callers turn that into a refusal.
 */
import { base64Decode } from "../inbound/signing.ts";

interface Tlv {
  tag: number;
  /** Offset of the contents within the input. */
  start: number;
  /** Offset just past the contents. */
  end: number;
  /** Offset of the tag byte: `input.subarray(header, end)` is the whole element. */
  header: number;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const CONTEXT_0 = 0xa0;

function readTlv(input: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new Error("truncated DER element");
  const tag = input[offset]!;
  // Multi-byte tags (low bits 0x1f) never occur in the structures read here.
  if ((tag & 0x1f) === 0x1f) throw new Error("unsupported DER tag");
  let length = input[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // DER forbids the indefinite form (0x80); four length bytes cover anything a webhook carries.
    if (count === 0 || count > 4) throw new Error("unsupported DER length");
    if (start + count > limit) throw new Error("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + input[start + i]!;
    start += count;
    if (length < 0x80) throw new Error("non-minimal DER length");
  }
  const end = start + length;
  if (end > limit) throw new Error("DER element overruns its container");
  return { tag, start, end, header: offset };
}

function readTagged(input: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(input, offset, limit);
  if (tlv.tag !== tag) throw new Error(`expected ${what}`);
  return tlv;
}

/** The children of a constructed element, in order. */
function children(input: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readTlv(input, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/**
 * An ECDSA signature `SEQUENCE { r INTEGER, s INTEGER }` as WebCrypto's fixed-width `r || s`
 * (each `size` bytes: 32 for P-256). Throws when it is not exactly that structure.
 */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array {
  const seq = readTagged(der, 0, der.length, SEQUENCE, "a SEQUENCE");
  if (seq.end !== der.length) throw new Error("trailing bytes after the signature");
  const parts = children(der, seq);
  if (parts.length !== 2) throw new Error("signature must hold exactly r and s");
  const out = new Uint8Array(size * 2);
  parts.forEach((part, i) => {
    if (part.tag !== INTEGER) throw new Error("r and s must be INTEGERs");
    let value = der.subarray(part.start, part.end);
    if (value.length === 0 || (value[0]! & 0x80) !== 0) throw new Error("r and s must be positive");
    // A leading zero only keeps the sign bit clear; the fixed-width form drops it.
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new Error("r or s is too large for the curve");
    out.set(value, i * size + (size - value.length));
  });
  return out;
}

export interface CertificateKey {
  /** The DER SubjectPublicKeyInfo, ready for `crypto.subtle.importKey("spki", …)`. */
  spki: Uint8Array;
  /** Validity, unix milliseconds. */
  notBefore: number;
  notAfter: number;
}

function readTime(input: Uint8Array, tlv: Tlv): number {
  const text = new TextDecoder().decode(input.subarray(tlv.start, tlv.end));
  // RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (years 50–99 are 19xx), GeneralizedTime YYYYMMDDHHMMSSZ.
  const m =
    tlv.tag === UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : tlv.tag === GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!m) throw new Error("certificate validity is not a UTCTime or GeneralizedTime");
  let year = Number(m[1]);
  if (tlv.tag === UTC_TIME) year += year >= 50 ? 1900 : 2000;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (!Number.isFinite(ms)) throw new Error("certificate validity is not a date");
  return ms;
}

/**
 * The public key and validity of a DER X.509 certificate (RFC 5280 §4.1). The certificate's own
 * signature and chain are not checked here: trust comes from where it was fetched (an Amazon SNS
 * HTTPS URL, see `snsCertificateUrl`).
 */
export function certificateKey(der: Uint8Array): CertificateKey {
  const cert = readTagged(der, 0, der.length, SEQUENCE, "a Certificate SEQUENCE");
  const tbs = readTagged(der, cert.start, cert.end, SEQUENCE, "a TBSCertificate SEQUENCE");
  const fields = children(der, tbs);
  // version [0] EXPLICIT is optional (absent means v1).
  const first = fields[0]?.tag === CONTEXT_0 ? 1 : 0;
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const validity = fields[first + 3];
  const spki = fields[first + 5];
  if (!validity || validity.tag !== SEQUENCE || !spki || spki.tag !== SEQUENCE) {
    throw new Error("certificate has no validity or subjectPublicKeyInfo");
  }
  const times = children(der, validity);
  if (times.length !== 2) throw new Error("certificate validity must hold notBefore and notAfter");
  return {
    spki: der.slice(spki.header, spki.end),
    notBefore: readTime(der, times[0]!),
    notAfter: readTime(der, times[1]!),
  };
}

/**
 * The bytes of the first PEM block with this label (`CERTIFICATE`, `PUBLIC KEY`), or null. Line
 * breaks and surrounding whitespace are ignored; the base64 itself must be strict.
 */
export function pemBlock(text: string, label: string): Uint8Array | null {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const from = text.indexOf(begin);
  if (from < 0) return null;
  const to = text.indexOf(end, from + begin.length);
  if (to < 0) return null;
  return base64Decode(text.slice(from + begin.length, to).replace(/\s+/g, ""));
}
