/** Types of event-payloads.mjs (plain JS so that Node 20 runs it without a build step). */
export declare const EMAIL_PROVIDERS: readonly string[];
export declare const STATUS_PROVIDERS: readonly string[];
export declare const EMAIL_EVENT_TYPES: readonly string[];

export interface EmailEventInput {
  type: string;
  /** The provider's id of this event (SendGrid sg_event_id, Mailgun id, …). */
  id: string;
  providerMessageId: string;
  /** The user's own id (`optout_message_id`), carried as the provider's custom data. */
  messageId?: string;
  campaign?: string;
  to: string;
  from: string;
  at: Date;
}

export declare function emailEvent(
  provider: string,
  event: EmailEventInput,
): { body: string; contentType: string } | null;

export interface StatusCallbackInput {
  id: string;
  from: string;
  to: string;
  status: "sent" | "delivered" | "opted_out";
  at?: Date;
}

export declare function statusCallback(
  provider: string,
  callback: StatusCallbackInput,
): { body: string; contentType: string };

export declare function sendgridKeyPair(): Promise<{
  publicKey: string;
  privateKey: CryptoKey;
  privateKeyPkcs8: string;
}>;

export declare function snsSigningKey(): Promise<{
  privateKey: CryptoKey;
  privateKeyPkcs8: string;
  certificatePem: string;
}>;

export interface SnsSigner {
  privateKey: CryptoKey | string;
  certUrl: string;
  version?: "1" | "2";
}

export declare function signSnsMessage(
  fields: Record<string, string | undefined>,
  signer: SnsSigner,
): Promise<Record<string, string | undefined>>;

export declare function snsSubscriptionConfirmation(
  topicArn: string,
  options?: { token?: string; at?: Date },
): Record<string, string>;

export interface SignEventInput {
  url: string;
  body: string;
  contentType?: string;
  secret: string | CryptoKey | (SnsSigner & { topicArn: string });
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Mailgun: the signature token (default: a new one). */
  token?: string;
  /** Resend: the svix-id; SES: the SNS MessageId (default: a new one). */
  id?: string;
}

export declare function signEventWebhook(
  provider: string,
  input: SignEventInput,
): Promise<{ url: string; body: string; headers: Record<string, string> }>;
