/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104). WebCrypto has no MD5, yet Vonage's SMS API still
 * signs webhooks with "MD5 hash" (its default) or "MD5 HMAC". MD5 is broken for collision
 * resistance; we use it only to *check* a signature a provider chose, never to protect our data.
 */

const encoder = new TextEncoder();

// Per-round left-rotation amounts, RFC 1321 §3.4.
const SHIFTS = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
];

// K[i] = floor(|sin(i + 1)| * 2^32), RFC 1321 §3.4.
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

export function md5(input: string | Uint8Array): Uint8Array {
  const message = typeof input === "string" ? encoder.encode(input) : input;
  const bitLength = message.length * 8;
  // Pad to 56 mod 64 bytes, then the 64-bit little-endian bit length.
  const padded = new Uint8Array((((message.length + 8) >> 6) + 1) * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, bitLength >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bitLength / 2 ** 32) >>> 0, true);

  let a0 = 0x67452301;
  let b0 = 0xefcdab89;
  let c0 = 0x98badcfe;
  let d0 = 0x10325476;
  const m = new Uint32Array(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let j = 0; j < 16; j++) m[j] = view.getUint32(offset + j * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      const sum = (a + f + K[i]! + m[g]!) >>> 0;
      const s = SHIFTS[i]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  outView.setUint32(0, a0, true);
  outView.setUint32(4, b0, true);
  outView.setUint32(8, c0, true);
  outView.setUint32(12, d0, true);
  return out;
}

export function hmacMd5(key: string | Uint8Array, data: string | Uint8Array): Uint8Array {
  const blockSize = 64;
  let k = typeof key === "string" ? encoder.encode(key) : key;
  if (k.length > blockSize) k = md5(k);
  const inner = new Uint8Array(blockSize);
  const outer = new Uint8Array(blockSize);
  for (let i = 0; i < blockSize; i++) {
    const byte = k[i] ?? 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  const msg = typeof data === "string" ? encoder.encode(data) : data;
  const innerInput = new Uint8Array(blockSize + msg.length);
  innerInput.set(inner);
  innerInput.set(msg, blockSize);
  const innerHash = md5(innerInput);
  const outerInput = new Uint8Array(blockSize + 16);
  outerInput.set(outer);
  outerInput.set(innerHash, blockSize);
  return md5(outerInput);
}
