import { normalizeAddress } from "@optout/core";
import type { Principal } from "./app-env.ts";

/** Normalizes with the account's default region; throws DomainError("invalid_address"). */
export function accountAddress(principal: Principal, raw: string): string {
  return normalizeAddress(raw, { defaultRegion: principal.defaultRegion ?? undefined }).value;
}
