import { randomBase62 } from "@optout/core";

// Reused ids must be safe to echo into headers and logs: short, no spaces or control characters.
const SANE = /^[A-Za-z0-9._:-]{6,128}$/;

/**
 * The caller's `x-request-id` when sane (so their logs and ours correlate), else Cloudflare's
 * `cf-ray`, else a fresh random id.
 */
export function pickRequestId(headers: Headers): string {
  for (const name of ["x-request-id", "cf-ray"]) {
    const value = headers.get(name);
    if (value && SANE.test(value)) return value;
  }
  return `req_${randomBase62(20)}`;
}
