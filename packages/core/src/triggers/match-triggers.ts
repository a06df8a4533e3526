import type { Evidence } from "../schemas.ts";
import type { TriggerEvent } from "./message-event.ts";
import { notOpenedDeadline } from "./not-opened-deadline.ts";
import { normalizeKeyword, type TriggerRule } from "./trigger-rule.ts";

/** What matching needs of a rule. */
export type MatchableRule = Pick<TriggerRule, "id" | "on" | "channel" | "scope" | "campaign" | "enabled">;

/**
 * Whether `rule` watches this event's message at all: enabled, same channel (a `*` rule watches
 * every channel; an event on `*` — a link for every channel — only `*` rules), the rule's sender
 * for a sender scope, the rule's campaign when it names one.
 */
export function ruleWatches(rule: MatchableRule, event: TriggerEvent): boolean {
  if (!rule.enabled) return false;
  if (rule.channel !== "*" && rule.channel !== event.channel) return false;
  if (rule.scope.type === "sender" && rule.scope.sender !== event.sender) return false;
  if (rule.campaign !== null && rule.campaign !== event.campaign) return false;
  return true;
}

/** A reply matches when its classified keyword or its whole text is one of the rule's keywords. */
export function replyMatchesKeywords(
  event: Pick<TriggerEvent, "keyword" | "text">,
  keywords: readonly string[],
) {
  const wanted = new Set(keywords.map(normalizeKeyword));
  return [event.keyword, event.text].some((said) => said !== undefined && wanted.has(normalizeKeyword(said)));
}

/** Whether this event, on arrival, fires `rule` at once (every type but `not_opened`). */
export function firesOnArrival(rule: MatchableRule, event: TriggerEvent): boolean {
  if (!ruleWatches(rule, event)) return false;
  const on = rule.on;
  switch (on.type) {
    case "keyword_reply":
      return event.type === "replied" && replyMatchesKeywords(event, on.keywords);
    case "link_click":
      // Only the edge knows a click confirmed an opt-out link; a `clicked` posted by the account
      // is any tracked link and only cancels not_opened deadlines.
      return event.type === "clicked" && event.origin === "link";
    case "bounced":
      return event.type === "bounced";
    case "complained":
      return event.type === "complained";
    case "not_opened":
      return false;
  }
}

/** The rules this event fires immediately, in the order given. */
export function triggersFiredBy<R extends MatchableRule>(event: TriggerEvent, rules: readonly R[]): R[] {
  return rules.filter((rule) => firesOnArrival(rule, event));
}

export interface ScheduledDeadline<R> {
  rule: R;
  /** Canonical instant: the event's occurredAt + withinSeconds. */
  dueAt: string;
}

/** The `not_opened` deadlines this event starts: one per watching rule whose `after` it is. */
export function deadlinesStartedBy<R extends MatchableRule>(
  event: TriggerEvent,
  rules: readonly R[],
): ScheduledDeadline<R>[] {
  const out: ScheduledDeadline<R>[] = [];
  for (const rule of rules) {
    const on = rule.on;
    if (on.type !== "not_opened" || on.after !== event.type || !ruleWatches(rule, event)) continue;
    out.push({ rule, dueAt: notOpenedDeadline(event.occurredAt, on.withinSeconds) });
  }
  return out;
}

/**
 * When the opt-out a firing records happened: when the person acted (the event's occurredAt),
 * or, for `not_opened`, the deadline — the moment "did not open in time" became true. Neither
 * depends on when the event arrived or when the cron ran, so late processing orders the same way.
 */
export function firingOccurredAt(rule: Pick<TriggerRule, "on">, event: TriggerEvent, dueAt?: string): string {
  if (rule.on.type === "not_opened") {
    if (dueAt === undefined) throw new Error("a not_opened firing needs its deadline");
    return dueAt;
  }
  return event.occurredAt;
}

/** The ledger evidence of a firing: the rule, and the events that fired it. No address, no reply text. */
export function triggerEvidence(
  rule: Pick<TriggerRule, "id" | "name" | "on">,
  events: readonly TriggerEvent[],
  deadline?: { dueAt: string },
): Evidence {
  const first = events[0];
  return {
    trigger: {
      ruleId: rule.id,
      ruleName: rule.name,
      type: rule.on.type,
      ...(rule.on.type === "not_opened"
        ? { withinSeconds: rule.on.withinSeconds, after: rule.on.after }
        : {}),
    },
    ...(first ? { messageId: first.messageId } : {}),
    ...(first?.campaign ? { campaign: first.campaign } : {}),
    events: events.map((e) => ({
      type: e.type,
      messageId: e.messageId,
      occurredAt: e.occurredAt,
      origin: e.origin,
      ...(e.keyword ? { keyword: e.keyword } : {}),
    })),
    ...(deadline ? { deadline: deadline.dueAt } : {}),
  };
}
