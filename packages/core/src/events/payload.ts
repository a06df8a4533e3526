/**
 * Shared readers for email providers' event payloads: JSON and zod validation with errors that
 * name the provider and the part, times, mailboxes and the user's own ids.
 */
import type { z } from "zod";
import { DomainError } from "../errors.ts";
import { toInstant } from "../inbound/payload.ts";
import { canonicalInstant } from "../instant.ts";
import { cleanText } from "../storable-text.ts";
import type { MessageEventType } from "../triggers/message-event.ts";
import {
  type EventProvider,
  OPTOUT_CAMPAIGN_KEY,
  OPTOUT_MESSAGE_ID_KEY,
  type ProviderMessageEvent,
  type ProviderOptOut,
} from "./types.ts";

export function parseJson(body: string, provider: EventProvider, what = "webhook body"): unknown {
  if (body.trim() === "") throw new DomainError("invalid_input", `${provider} ${what} is empty`);
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new DomainError("invalid_input", `${provider} ${what} is not valid JSON (${(e as Error).message})`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}

export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  provider: EventProvider,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new DomainError(
      "invalid_input",
      `${provider} ${what} is malformed: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

/** A provider time (ISO-8601, unix seconds or ms, fractional seconds) as a canonical instant; `now` when unusable. */
export function occurredAt(raw: string | number | null | undefined, nowSeconds: number): string {
  return canonicalInstant(toInstant(raw, nowSeconds));
}

/**
 * The address of a mailbox written `Display Name <addr>` (as providers echo From and some To
 * headers), else the text as given. Only unwraps: normalizing is the edge's job.
 */
export function mailboxAddress(raw: string): string {
  const m = /<([^<>]+)>\s*$/.exec(raw);
  return (m ? m[1]! : raw).trim();
}

/** A non-blank id the user attached (strings, or numbers some providers decode them to), cleaned. */
function userValue(value: unknown): string | null {
  let text: string | null = null;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value);
  else if (Array.isArray(value) && value.length > 0) return userValue(value[0]);
  if (text === null) return null;
  const clean = cleanText(text).trim();
  return clean === "" ? null : clean;
}

/** Reads a key from a provider's record of user data (custom args, variables, tags, metadata), if it is one. */
function lookup(record: unknown, key: string): string | null {
  if (record === null || typeof record !== "object") return null;
  if (Array.isArray(record)) {
    // Resend's documented tag list: [{ name, value }].
    for (const item of record) {
      if (item && typeof item === "object" && (item as { name?: unknown }).name === key) {
        return userValue((item as { value?: unknown }).value);
      }
    }
    return null;
  }
  return Object.hasOwn(record, key) ? userValue((record as Record<string, unknown>)[key]) : null;
}

/** The user's own ids a message carried, looked up in each place the provider echoes user data. */
export function userIds(...records: unknown[]): { messageId: string | null; campaign: string | null } {
  let messageId: string | null = null;
  let campaign: string | null = null;
  for (const record of records) {
    messageId ??= lookup(record, OPTOUT_MESSAGE_ID_KEY);
    campaign ??= lookup(record, OPTOUT_CAMPAIGN_KEY);
  }
  return { messageId, campaign };
}

/** A non-blank string, else null. */
export function present(value: string | null | undefined): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

export interface MessageEventParts {
  type: MessageEventType;
  /** The user's id if the message carried one, else the provider's; null skips the event. */
  messageId: string | null;
  address: string;
  sender: string | null;
  occurredAt: string;
  campaign: string | null;
  providerEventId: string;
}

/**
 * A message event, or nothing when no message id is known (SendGrid omits it on asynchronous
 * bounces): an event that cannot be tied to a message can neither start nor stop a deadline.
 */
export function messageEvent(parts: MessageEventParts): ProviderMessageEvent[] {
  if (parts.messageId === null) return [];
  return [
    {
      kind: "message_event",
      event: {
        type: parts.type,
        messageId: parts.messageId,
        address: mailboxAddress(parts.address),
        sender: parts.sender === null ? null : mailboxAddress(parts.sender),
        channel: "email",
        occurredAt: parts.occurredAt,
        campaign: parts.campaign,
        providerEventId: parts.providerEventId,
      },
    },
  ];
}

export function optOut(parts: Omit<ProviderOptOut, "kind" | "channel">): ProviderOptOut[] {
  return [{ kind: "opt_out", channel: "email", ...parts, address: mailboxAddress(parts.address) }];
}

/**
 * One provider event id per recipient when one notification names several (SES, Resend): the
 * first keeps the delivery's own id, so single-recipient events (the usual case) keep it unchanged.
 */
export function perRecipientId(id: string, index: number): string {
  return index === 0 ? id : `${id}:${index}`;
}
