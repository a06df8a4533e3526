import { timingSafeEqual } from "../crypto.ts";

export interface WhatsAppHandshakeInput {
  /** The GET request's query: a `URLSearchParams`, the raw query string, or a plain record. */
  query: URLSearchParams | string | Readonly<Record<string, string | undefined>>;
  /** The verify token stored for the account (`options.verifyToken`); none refuses every check. */
  verifyToken: string | null | undefined;
}

// Meta sends an integer; anything outside this set is refused rather than echoed back.
const CHALLENGE = /^[A-Za-z0-9._-]{1,256}$/;

function params(query: WhatsAppHandshakeInput["query"]): URLSearchParams {
  if (typeof query === "string" || query instanceof URLSearchParams) return new URLSearchParams(query);
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (typeof v === "string") out.append(k, v);
  return out;
}

/**
 * Meta's webhook subscription check (`GET` with `hub.mode=subscribe`, `hub.verify_token`,
 * `hub.challenge`): the challenge to answer with (200, `text/plain`) when the mode is `subscribe`
 * and the token equals the stored one (compared in constant time), else null (answer 403).
 */
export function whatsappHandshake({ query, verifyToken }: WhatsAppHandshakeInput): string | null {
  if (typeof verifyToken !== "string" || verifyToken.length === 0) return null;
  const q = params(query);
  const token = q.get("hub.verify_token");
  const challenge = q.get("hub.challenge");
  if (q.get("hub.mode") !== "subscribe" || token === null || challenge === null) return null;
  if (!timingSafeEqual(token, verifyToken)) return null;
  return CHALLENGE.test(challenge) ? challenge : null;
}
