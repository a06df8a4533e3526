import { z } from "zod";
import { type Channel, Instant, RawAddress, SendChannel, Sender } from "../schemas.ts";

/**
 * Message events: what happened to a message the account sent (`sent`, `delivered`, `opened`,
 * `clicked`, `bounced`, `complained`) or what the end user sent back (`replied`). They are the
 * input of trigger rules. Posted by the account (`POST /v1/events`) or produced at the edge itself
 * (a keyword reply from an SMS provider, a click on an opt-out link).
 */

export const MessageEventType = z.enum([
  "sent",
  "delivered",
  "opened",
  "clicked",
  "replied",
  "bounced",
  "complained",
]);
export type MessageEventType = z.infer<typeof MessageEventType>;

/**
 * The provider's or the account's id of the message. A message id belongs to the account that
 * first recorded an event for it; another account cannot record events for it.
 */
export const MessageId = z.string().trim().min(1).max(256);

export const Campaign = z.string().trim().min(1).max(200);

/** At most this many events per `POST /v1/events`. */
export const MAX_EVENTS_BATCH = 1000;

/** The longest reply text kept on a `replied` event (10 concatenated SMS segments and then some). */
export const MAX_REPLY_TEXT = 2000;

/**
 * How far in the future an `occurredAt` may be (producers' clocks drift). Further is rejected:
 * a future `sent` would schedule a deadline beyond the 30 days a rule may wait.
 */
export const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

/** One event as the account posts it. */
export const MessageEvent = z
  .strictObject({
    type: MessageEventType,
    messageId: MessageId,
    /** The end user's address (normalized like every address: E.164 or lower-cased email). */
    address: RawAddress,
    /** The account's sender the message went out from (or, for `replied`, was sent to). */
    sender: Sender,
    channel: SendChannel,
    /** When it happened at the provider: deadlines count from here, never from arrival. */
    occurredAt: Instant,
    campaign: Campaign.optional(),
    /** `replied` only: the reply's text, matched by `keyword_reply` rules. */
    text: z.string().max(MAX_REPLY_TEXT).optional(),
  })
  .refine((e) => e.text === undefined || e.type === "replied", {
    path: ["text"],
    message: "text is only allowed on replied events",
  });
export type MessageEvent = z.infer<typeof MessageEvent>;

export const PostEventsInput = z.strictObject({
  events: z.array(MessageEvent).min(1).max(MAX_EVENTS_BATCH),
});
export type PostEventsInput = z.infer<typeof PostEventsInput>;

/** Where an event came from: the account's API, or the edge itself. */
export const EventOrigin = z.enum(["api", "keyword", "link"]);
export type EventOrigin = z.infer<typeof EventOrigin>;

/**
 * An event as trigger rules see it, after the edge normalized it: address normalized,
 * `occurredAt` canonical (`canonicalInstant`). Events produced at the edge may lack a sender
 * (a link minted without one) and may carry channel `*` (a link for every channel).
 */
export interface TriggerEvent {
  type: MessageEventType;
  messageId: string;
  address: string;
  sender: string | null;
  channel: Channel;
  occurredAt: string;
  campaign: string | null;
  origin: EventOrigin;
  /** `replied` from an SMS provider: the keyword the inbound classifier matched. */
  keyword?: string;
  /** `replied`: the reply's text. */
  text?: string;
}

/**
 * An instant in the one form stored and compared: UTC, millisecond precision
 * (`2026-05-01T12:00:00.000Z`). Because every stored instant has this form, comparing the
 * strings compares the instants. Finer precision is truncated to the millisecond.
 */
export function canonicalInstant(instant: string | number | Date): string {
  const ms = typeof instant === "number" ? instant : new Date(instant).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return new Date(Math.floor(ms)).toISOString();
}

/** Why this `occurredAt` is unacceptable at `now`, or null. Late events are always fine. */
export function occurredAtProblem(occurredAt: string, now: Date): string | null {
  const at = Date.parse(occurredAt);
  if (!Number.isFinite(at)) return "not an instant";
  if (at - now.getTime() > MAX_FUTURE_SKEW_MS) {
    return `more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future`;
  }
  return null;
}

/**
 * Events are idempotent by (account, message id, type). When the same one is reported twice with
 * different times, the earlier `occurredAt` is kept: a fold of any reports in any order then
 * ends in the same state (a second `opened` cannot hide the first one, whatever order they came in).
 */
export function keepsEarlier(
  candidate: { occurredAt: string },
  current: { occurredAt: string } | undefined,
): boolean {
  return current === undefined || Date.parse(candidate.occurredAt) < Date.parse(current.occurredAt);
}
