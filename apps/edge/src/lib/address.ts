import { normalizeAddress } from "@optout/core";
import type { Principal } from "./app-env.ts";

// Reading a phone number with libphonenumber costs tens of microseconds, more than the rest of a
// check; the same addresses come back again and again (every send is checked). Normalization is a
// pure function of (region, input), so remembered results never go stale. Bounded; failures are
// not remembered (they throw every time).
const NORMALIZED_MAX = 10_000;
const normalized = new Map<string, string>();

/** Normalizes with the account's default region; throws DomainError("invalid_address"). */
export function accountAddress(principal: Principal, raw: string): string {
  const region = principal.defaultRegion ?? undefined;
  const key = `${region ?? ""} ${raw}`;
  const known = normalized.get(key);
  if (known !== undefined) return known;
  const value = normalizeAddress(raw, { defaultRegion: region }).value;
  if (normalized.size >= NORMALIZED_MAX) normalized.delete(normalized.keys().next().value!);
  normalized.set(key, value);
  return value;
}
