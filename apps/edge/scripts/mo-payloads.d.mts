/** Types of mo-payloads.mjs (plain JS so that Node 20 runs it without a build step). */
export declare const PROVIDERS: readonly string[];

export interface InboundMessageInput {
  id: string;
  from: string;
  to: string;
  text: string;
  receivedAt?: Date;
}

export declare function inboundPayload(
  provider: string,
  message: InboundMessageInput,
): { body: string; contentType: string };

export declare function telnyxKeyPair(): Promise<{
  publicKey: string;
  privateKey: CryptoKey;
  privateKeyPkcs8: string;
}>;

export interface SignInput {
  url: string;
  body: string;
  contentType: string;
  /** For Telnyx: the private key (CryptoKey, or PKCS#8 in base64). */
  secret: string | CryptoKey;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Vonage: sha1, sha256 (default) or sha512. */
  algorithm?: string;
}

export declare function signWebhook(
  provider: string,
  input: SignInput,
): Promise<{ url: string; body: string; headers: Record<string, string> }>;

/** A WhatsApp Cloud API webhook (`messages` field): texts, quick-reply buttons and statuses. */
export declare function whatsappPayload(input: {
  to: string;
  messages?: { id: string; from: string; text?: string; button?: string; receivedAt?: Date }[];
  statuses?: { id: string; recipient: string; status: string; at?: Date; errorCode?: number }[];
}): { body: string; contentType: string };
