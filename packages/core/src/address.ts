import { type CountryCode, isSupportedCountry, parsePhoneNumberWithError } from "libphonenumber-js/max";
import { DomainError } from "./errors.ts";

export type AddressKind = "phone" | "email";
export interface NormalizedAddress {
  kind: AddressKind;
  /** E.164 for phones (`+14155550100`), trimmed lower-case for emails. */
  value: string;
}

export interface NormalizeOptions {
  /** ISO 3166-1 alpha-2 region used to read national-format numbers (`(415) 555-0100`). */
  defaultRegion?: string;
}

// Deliberately simple: one @, a dot-separated domain, no spaces or control characters.
// Deliverability is not our question; recognizing the same mailbox twice is.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CONTROL = /\p{Cc}/u;
const PHONEISH = /^[+(]?[\d\s().\-/]+$/;

/**
 * Reads an address the way every store must key it. Idempotent: normalizing a normalized
 * address returns it unchanged. Anything that is neither a valid phone number nor an email is
 * a DomainError("invalid_address") whose message says what is wrong — never a guess.
 */
export function normalizeAddress(raw: string, options: NormalizeOptions = {}): NormalizedAddress {
  const input = raw.trim();
  if (input.length === 0) throw new DomainError("invalid_address", "address is empty");
  if (input.length > 320) throw new DomainError("invalid_address", "address is longer than 320 characters");

  if (input.includes("@")) {
    const email = input.toLowerCase();
    if (CONTROL.test(email) || !EMAIL.test(email)) {
      throw new DomainError("invalid_address", "address looks like an email but is not a valid one");
    }
    return { kind: "email", value: email };
  }

  if (!PHONEISH.test(input)) {
    throw new DomainError("invalid_address", "address is neither a phone number nor an email address");
  }
  const region = options.defaultRegion?.toUpperCase();
  if (!input.startsWith("+") && !(region && isSupportedCountry(region))) {
    throw new DomainError(
      "invalid_address",
      "phone number has no country code (+...) and no default region is set to read it",
    );
  }
  let parsed: ReturnType<typeof parsePhoneNumberWithError>;
  try {
    parsed = parsePhoneNumberWithError(input, region as CountryCode | undefined);
  } catch (e) {
    throw new DomainError("invalid_address", `phone number could not be read (${(e as Error).message})`);
  }
  if (!parsed.isValid()) {
    throw new DomainError("invalid_address", "phone number is not a valid number for its country");
  }
  return { kind: "phone", value: parsed.number };
}

/** Masks an address for display to the person it belongs to: `+1 ••• ••• 0100`, `j•••@example.com`. */
export function maskAddress(address: string): string {
  const at = address.indexOf("@");
  if (at > 0) return `${address[0]}•••${address.slice(at)}`;
  const m = /^\+(\d{1,3}?)(\d+)(\d{4})$/.exec(address);
  if (!m) return "•••";
  return `+${m[1]} ••• ••• ${m[3]}`;
}
