import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacMd5, md5 } from "../../src/inbound/md5.ts";
import { hex } from "../../src/inbound/signing.ts";

describe("md5 (for Vonage's md5hash / MD5 HMAC signatures)", () => {
  it.each([
    { input: "", digest: "d41d8cd98f00b204e9800998ecf8427e" },
    { input: "abc", digest: "900150983cd24fb0d6963f7d28e17f72" },
    { input: "message digest", digest: "f96b697d7cb7938d525a2f31aaf161d0" },
    {
      input: "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      digest: "57edf4a22be3c955ac49da2e2107b67a",
    },
  ])("RFC 1321 test suite: md5($input)", ({ input, digest }) => {
    expect(hex(md5(input))).toBe(digest);
  });

  it("agrees with node:crypto for any input (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(hex(md5(bytes))).toBe(createHash("md5").update(bytes).digest("hex"));
      }),
    );
  });

  it("HMAC-MD5 agrees with node:crypto, including keys longer than a block (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.string({ maxLength: 200 }), (key, data) => {
        expect(hex(hmacMd5(key, data))).toBe(createHmac("md5", key).update(data).digest("hex"));
      }),
    );
  });
});
