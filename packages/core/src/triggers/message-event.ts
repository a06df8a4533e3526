import { z } from "zod";
import { futureInstantProblem } from "../instant.ts";
import { type Channel, Instant, RawAddress, SendChannel, Sender } from "../schemas.ts";
import { MAX_WITHIN_SECONDS } from "./limits.ts";

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
 * The provider's or the account's id of the message. Ids are per account: two accounts using the
 * same id never meet.
 */
export const MessageId = z.string().trim().min(1).max(256);

export const Campaign = z.string().trim().min(1).max(200);

/** At most this many events per `POST /v1/events`. */
export const MAX_EVENTS_BATCH = 1000;

/** The longest reply text kept on a `replied` event (10 concatenated SMS segments and then some). */
export const MAX_REPLY_TEXT = 2000;

/**
 * How old an event may be: the longest a `not_opened` rule waits, plus a day for late reports.
 * An older `sent` would only schedule a deadline that is already overdue, and a request full of
 * them would bury every account's due deadlines under one account's backlog.
 */
export const MAX_EVENT_AGE_MS = (MAX_WITHIN_SECONDS + 24 * 60 * 60) * 1000;

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

/**
 * Where an event came from: the account's API, the edge itself (a keyword reply, a link click), or
 * a sending provider's event webhook (`provider`).
 */
export const EventOrigin = z.enum(["api", "keyword", "link", "provider"]);
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
 * Why this event's `occurredAt` is unacceptable at `now`, or null: events are accepted from
 * `MAX_EVENT_AGE_MS` ago up to the allowed clock skew ahead.
 */
export function occurredAtProblem(occurredAt: string, now: Date): string | null {
  const future = futureInstantProblem(occurredAt, now);
  if (future) return future;
  if (now.getTime() - Date.parse(occurredAt) > MAX_EVENT_AGE_MS) {
    const days = MAX_EVENT_AGE_MS / 86_400_000;
    return `more than ${days} days in the past (older events cannot start or stop any trigger's deadline)`;
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
