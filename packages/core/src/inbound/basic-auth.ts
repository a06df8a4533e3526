/** HTTP Basic authentication (RFC 7617) against a configured `user:password` secret. */
import { fail, header, ok, type VerifyResult, type WebhookRequest } from "./request.ts";
import { base64Decode, timingSafeEqual } from "./signing.ts";

export function verifyBasicAuth(request: WebhookRequest, secret: string): VerifyResult {
  if (!secret.includes(":"))
    return fail('configured secret must be "user:password" for Basic authentication');
  const authorization = header(request, "authorization");
  if (!authorization) return fail("missing Authorization header");
  const m = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return fail("Authorization header is not Basic");
  const decoded = base64Decode(m[1]!);
  if (!decoded) return fail("Basic credentials are not base64");
  // Compared as bytes, in constant time; the user part is as secret as the password here.
  return timingSafeEqual(decoded, new TextEncoder().encode(secret))
    ? ok()
    : fail("Basic credentials do not match");
}
