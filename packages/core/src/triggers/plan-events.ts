/**
 * What recording a batch of message events does, decided from what is stored: which events are
 * new, which reports keep an earlier time, which messages are first seen, which rules fire, which
 * `not_opened` deadlines start, and — for the account's own API — which events contradict their
 * message. Pure: the account's writer supplies what it knows and commits the plan.
 *
 * Rules (docs/adr/0006):
 *  - Idempotent by (account, messageId, type); a report with an earlier occurredAt replaces the
 *    kept time (`keepsEarlier`), so arrival order never matters.
 *  - Rules fire on the first report of an event only, and each rule at most once per message.
 *  - Deadlines count from the event's occurredAt; a re-report with an earlier time moves a
 *    pending deadline earlier.
 */
import type { Channel } from "../schemas.ts";
import { MAX_DEADLINES_PER_REQUEST } from "./limits.ts";
import { deadlinesStartedBy, type MatchableRule, triggersFiredBy } from "./match-triggers.ts";
import { keepsEarlier, type MessageEventType, type TriggerEvent } from "./message-event.ts";

/** A message as stored for its account. */
export interface StoredMessage {
  messageId: string;
  address: string;
  sender: string | null;
  channel: Channel;
  campaign: string | null;
}

export interface StoredEventTime {
  occurredAt: string;
}

export type EventStatus = "recorded" | "duplicate";

export interface EventPlanProblem {
  /** 409: contradicts a stored message; 400: contradicts an earlier event of the same batch. */
  status: 400 | 409;
  message: string;
}

export interface PlannedEvents<R extends MatchableRule> {
  results: { messageId: string; type: MessageEventType; status: EventStatus }[];
  /** Messages to store: new ones, and known ones whose campaign this batch fills in. */
  messages: StoredMessage[];
  /** Events to write: first reports, and re-reports with an earlier time. */
  events: TriggerEvent[];
  /** Rules fired by a first report, with the event (after its message filled in what it lacked). */
  firings: { rule: R; event: TriggerEvent }[];
  deadlines: { rule: R; messageId: string; dueAt: string }[];
}

export interface PlanEventsInput<R extends MatchableRule> {
  events: readonly TriggerEvent[];
  /** The stored message of each id, or null when there is none. */
  messageOf: (messageId: string) => StoredMessage | null;
  /** The stored event of (id, type), or null. */
  eventOf: (messageId: string, type: MessageEventType) => StoredEventTime | null;
  rules: readonly R[];
  /**
   * The account's own API: an event that contradicts its message refuses the whole batch.
   * Otherwise (events the edge produced itself) the event takes its message's identity.
   */
  strict: boolean;
}

const eventKey = (messageId: string, type: string) => JSON.stringify([messageId, type]);

function identityMismatch(message: StoredMessage, event: TriggerEvent): string | null {
  if (message.address !== event.address) return "address";
  if (message.sender !== event.sender) return "sender";
  if (message.channel !== event.channel) return "channel";
  if (message.campaign !== null && event.campaign !== null && message.campaign !== event.campaign)
    return "campaign";
  return null;
}

export function planEvents<R extends MatchableRule>(
  input: PlanEventsInput<R>,
): { ok: true; plan: PlannedEvents<R> } | { ok: false; problem: EventPlanProblem } {
  // 1. Each event against what is known of its message (stored, or first seen in this batch).
  const known = new Map<string, StoredMessage & { firstIndex: number | null; changed: boolean }>();
  const results: PlannedEvents<R>["results"] = [];
  const accepted: TriggerEvent[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of input.events.entries()) {
    let event = raw;
    let message = known.get(event.messageId);
    if (!message) {
      const stored = input.messageOf(event.messageId);
      if (stored) {
        message = { ...stored, firstIndex: null, changed: false };
        known.set(event.messageId, message);
      }
    }
    if (message) {
      const mismatch = identityMismatch(message, event);
      if (mismatch && input.strict) {
        return {
          ok: false,
          problem:
            message.firstIndex === null
              ? {
                  status: 409,
                  message: `events.${i}.${mismatch}: differs from the message's, which was recorded with another ${mismatch}`,
                }
              : {
                  status: 400,
                  message: `events.${i}.${mismatch}: differs from events.${message.firstIndex}.${mismatch} of the same messageId`,
                },
        };
      }
      // Strict: the event agrees with its message (checked above). Internal: the event's own
      // address is who acted (the link's address), and the message fills in what it lacks.
      event = {
        ...event,
        sender: event.sender ?? message.sender,
        channel: event.channel === "*" ? message.channel : event.channel,
        campaign: message.campaign ?? event.campaign,
      };
      if (message.campaign === null && event.campaign !== null) {
        message.campaign = event.campaign;
        message.changed = true;
      }
    } else {
      known.set(event.messageId, {
        messageId: event.messageId,
        address: event.address,
        sender: event.sender,
        channel: event.channel,
        campaign: event.campaign,
        firstIndex: i,
        changed: true,
      });
    }
    accepted.push(event);
    const key = eventKey(event.messageId, event.type);
    const duplicate = input.eventOf(event.messageId, event.type) !== null || seen.has(key);
    seen.add(key);
    results.push({
      messageId: event.messageId,
      type: event.type,
      status: duplicate ? "duplicate" : "recorded",
    });
  }

  // 2. Fold reports per (message, type): the earliest kept.
  const earliest = new Map<string, TriggerEvent>();
  for (const event of accepted) {
    const key = eventKey(event.messageId, event.type);
    if (keepsEarlier(event, earliest.get(key))) earliest.set(key, event);
  }
  const events: TriggerEvent[] = [];
  const firings: PlannedEvents<R>["firings"] = [];
  const deadlines: PlannedEvents<R>["deadlines"] = [];
  for (const event of earliest.values()) {
    const before = input.eventOf(event.messageId, event.type);
    if (before && !keepsEarlier(event, before)) continue; // a plain duplicate: nothing to write
    events.push(event);
    // Rules fire on the first report only; a re-report with an earlier time moves deadlines only.
    if (!before) for (const rule of triggersFiredBy(event, input.rules)) firings.push({ rule, event });
    for (const { rule, dueAt } of deadlinesStartedBy(event, input.rules)) {
      deadlines.push({ rule, messageId: event.messageId, dueAt });
    }
  }
  if (deadlines.length > MAX_DEADLINES_PER_REQUEST) {
    return {
      ok: false,
      problem: {
        status: 400,
        message:
          `events: would schedule ${deadlines.length} not_opened deadlines (each sent/delivered event × ` +
          `each not_opened rule it matches); at most ${MAX_DEADLINES_PER_REQUEST} per request: send fewer events per request`,
      },
    };
  }
  const messages = [...known.values()]
    .filter((m) => m.changed)
    .map(({ firstIndex: _f, changed: _c, ...m }) => m);
  return { ok: true, plan: { results, messages, events, firings, deadlines } };
}
