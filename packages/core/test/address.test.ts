import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError, maskAddress, normalizeAddress } from "../src/index.ts";

describe("normalizeAddress", () => {
  it.each([
    { name: "E.164 stays E.164", raw: "+14155550100", region: undefined, value: "+14155550100" },
    {
      name: "US national format with default region",
      raw: "(415) 555-0100",
      region: "US",
      value: "+14155550100",
    },
    { name: "dots and spaces", raw: " 415.555.0100 ", region: "US", value: "+14155550100" },
    {
      name: "international format ignores region",
      raw: "+44 20 7946 0958",
      region: "US",
      value: "+442079460958",
    },
    { name: "French national number", raw: "06 12 34 56 78", region: "FR", value: "+33612345678" },
    { name: "lower-case region is accepted", raw: "4155550100", region: "us", value: "+14155550100" },
  ])("phone: $name", ({ raw, region, value }) => {
    expect(normalizeAddress(raw, { defaultRegion: region })).toEqual({ kind: "phone", value });
  });

  it.each([
    { name: "trims and lower-cases", raw: "  Jane.Doe@Example.COM ", value: "jane.doe@example.com" },
    { name: "plus addressing kept", raw: "jane+news@example.com", value: "jane+news@example.com" },
  ])("email: $name", ({ raw, value }) => {
    expect(normalizeAddress(raw)).toEqual({ kind: "email", value });
  });

  it.each([
    { name: "empty", raw: "   ", message: /empty/ },
    { name: "letters", raw: "hello world", message: /neither a phone number nor an email/ },
    { name: "national number without region", raw: "4155550100", message: /no country code/ },
    { name: "too short", raw: "+1415", message: /phone number/ },
    { name: "not a valid number", raw: "+11234567890", message: /not a valid number/ },
    { name: "email without domain dot", raw: "jane@localhost", message: /not a valid one/ },
    { name: "email with space", raw: "ja ne@example.com", message: /not a valid one/ },
    { name: "two @", raw: "a@b@example.com", message: /not a valid one/ },
    { name: "control character in email", raw: "ja\u0007ne@example.com", message: /not a valid one/ },
    { name: "over 320 characters", raw: `${"a".repeat(320)}@example.com`, message: /longer than 320/ },
  ])("rejects $name with a clear message", ({ raw, message }) => {
    let error: unknown;
    try {
      normalizeAddress(raw, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("invalid_address");
    expect((error as DomainError).message).toMatch(message);
  });

  // Subscriber numbers 200-0000..999-9999 in a handful of NANP area codes that are valid.
  const usNumber = fc
    .tuple(fc.constantFrom("415", "212", "646", "303", "512"), fc.integer({ min: 2_000_000, max: 9_999_999 }))
    .map(([area, sub]) => `${area}${sub}`);
  const formatted = fc
    .tuple(usNumber, fc.constantFrom("plain", "dashes", "parens", "intl"))
    .map(([n, style]) => {
      switch (style) {
        case "dashes":
          return `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`;
        case "parens":
          return `(${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`;
        case "intl":
          return `+1 ${n}`;
        default:
          return n;
      }
    });

  it("is idempotent for phone numbers (property)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(formatted, (raw) => {
        let once: string;
        try {
          once = normalizeAddress(raw, { defaultRegion: "US" }).value;
        } catch {
          return; // invalid inputs are covered above; idempotence is about accepted ones
        }
        accepted++;
        expect(normalizeAddress(once, { defaultRegion: "US" }).value).toBe(once);
        expect(normalizeAddress(once).value).toBe(once);
      }),
    );
    // Guard against a vacuous property: most generated numbers must be accepted.
    expect(accepted).toBeGreaterThan(50);
  });

  it("is idempotent for emails (property)", () => {
    const email = fc
      .tuple(fc.emailAddress(), fc.constantFrom("", " ", "\t"), fc.boolean())
      .map(([e, pad, upper]) => `${pad}${upper ? e.toUpperCase() : e}${pad}`);
    let accepted = 0;
    fc.assert(
      fc.property(email, (raw) => {
        let once: string;
        try {
          once = normalizeAddress(raw).value;
        } catch {
          return;
        }
        accepted++;
        expect(normalizeAddress(once).value).toBe(once);
        expect(once).toBe(once.trim().toLowerCase());
      }),
    );
    expect(accepted).toBeGreaterThan(50);
  });
});

describe("maskAddress", () => {
  it.each([
    { address: "+14155550100", masked: "+1 ••• ••• 0100" },
    { address: "jane@example.com", masked: "j•••@example.com" },
  ])("$address → $masked", ({ address, masked }) => {
    expect(maskAddress(address)).toBe(masked);
  });
});
