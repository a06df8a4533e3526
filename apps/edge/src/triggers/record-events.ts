/**
 * Recording message events and firing the trigger rules they fire on arrival. Both doors use it:
 * `POST /v1/events` (the account's events; strict) and `recordInternalEvent` (events the edge
 * produces itself: a confirmed opt-out link click, a keyword reply from an SMS provider).
 *
 * A call reads once, decides everything in memory (core), then writes once: messages, events,
 * new `not_opened` deadlines, and — when rules fire — the ledger events and firing rows, all in
 * ONE D1 batch (the ledger append's, via `alsoWrite`). A failure writes nothing, so a retry of
 * the same request starts from the same state.
 *
 * Outcome rules (docs/adr/0006):
 *  - Idempotent by (account, messageId, type); a report with an earlier occurredAt replaces the
 *    kept time (core `keepsEarlier`), so arrival order never matters.
 *  - Rules fire on the first report of an event only, and each rule at most once per message.
 *  - Deadlines count from the event's occurredAt; a re-report with an earlier time moves a
 *    pending deadline earlier.
 */
import {
  canonicalInstant,
  deadlinesStartedBy,
  keepsEarlier,
  MAX_DEADLINES_PER_REQUEST,
  type MessageEventType,
  type TriggerEvent,
  triggersFiredBy,
} from "@optout/core";
import type { Db } from "../db/client.ts";
import { jsonChunks, jsonFields, rowsOf } from "../db/json-rows.ts";
import { appendChanges } from "../ledger/append.ts";
import { ApiError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { type FiredTrigger, type Firing, firedTriggers, firingChange, firingStatements } from "./firing.ts";
import { RULE_COLUMNS, ruleFromRow } from "./rules.ts";

export interface EventDeps {
  db: Db;
  kv: KVNamespace;
  /** The clock; tests move it. */
  now?: () => Date;
}

/**
 * `recorded`: the first report of (messageId, type). `duplicate`: reported before (in an earlier
 * request or earlier in this one); nothing fires again.
 */
export type EventStatus = "recorded" | "duplicate";

export interface RecordEventsResult {
  results: { messageId: string; type: MessageEventType; status: EventStatus }[];
  fired: FiredTrigger[];
  /** Deadlines started or moved earlier by this call. */
  deadlinesScheduled: number;
}

interface StoredMessage {
  messageId: string;
  address: string;
  sender: string | null;
  channel: TriggerEvent["channel"];
  campaign: string | null;
}

interface StoredEvent {
  messageId: string;
  type: MessageEventType;
  occurredAt: string;
}

const eventKey = (messageId: string, type: string) => JSON.stringify([messageId, type]);

/**
 * Records events of one account. Message ids are the account's own: another account's messages
 * are never read or touched, whatever their ids. `strict` (the public API) refuses the whole
 * batch when an event contradicts what is known of its message (409/400); otherwise (internal
 * events) the event takes the message's known identity.
 */
export async function recordEvents(
  deps: EventDeps,
  accountId: string,
  events: readonly TriggerEvent[],
  options: { strict: boolean },
): Promise<RecordEventsResult> {
  const now = (deps.now ?? (() => new Date()))();
  const recordedAt = now.toISOString();
  const d1 = deps.db.$client;
  const messageIds = [...new Set(events.map((e) => e.messageId))];

  // One read batch: one consistent view.
  const [messageRows, eventRows, ruleRows] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(
        `SELECT message_id AS messageId, address, sender, channel, campaign
        FROM messages WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
      )
      .bind(accountId, JSON.stringify(messageIds)),
    d1
      .prepare(
        `SELECT message_id AS messageId, type, occurred_at AS occurredAt FROM message_events
        WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
      )
      .bind(accountId, JSON.stringify(messageIds)),
    d1
      .prepare(
        `SELECT ${RULE_COLUMNS} FROM trigger_rules r
        WHERE r.account_id = ?1 AND r.deleted_at IS NULL AND r.enabled = 1 ORDER BY r.created_at, r.id`,
      )
      .bind(accountId),
  ]);
  const stored = new Map(rowsOf<StoredMessage>(messageRows).map((m) => [m.messageId, m]));
  const storedEvents = new Map(rowsOf<StoredEvent>(eventRows).map((e) => [eventKey(e.messageId, e.type), e]));
  const rules = rowsOf<Parameters<typeof ruleFromRow>[0]>(ruleRows).map(ruleFromRow);

  // 1. Each event against what is known of its message (stored, or first seen in this batch).
  const known = new Map<string, StoredMessage & { firstIndex: number | null }>();
  for (const [id, m] of stored) known.set(id, { ...m, firstIndex: null });
  const results: RecordEventsResult["results"] = [];
  const accepted: TriggerEvent[] = [];
  const seen = new Set<string>();
  events.forEach((raw, i) => {
    let event: TriggerEvent = { ...raw, occurredAt: canonicalInstant(raw.occurredAt) };
    const message = known.get(event.messageId);
    if (message) {
      const mismatch = identityMismatch(message, event);
      if (mismatch && options.strict) {
        const where = message.firstIndex === null ? "was recorded" : `is events.${message.firstIndex}'s`;
        throw message.firstIndex === null
          ? new ApiError(
              409,
              "conflict",
              `events.${i}.${mismatch}: differs from the message's, which ${where} with another ${mismatch}`,
            )
          : new ApiError(
              400,
              "invalid_input",
              `events.${i}.${mismatch}: differs from events.${message.firstIndex}.${mismatch} of the same messageId`,
            );
      }
      // Strict: the event agrees with its message (checked above). Internal: the event's own
      // address is who acted (the link's address), and the message fills in what it lacks.
      event = {
        ...event,
        sender: event.sender ?? message.sender,
        channel: event.channel === "*" ? message.channel : event.channel,
        campaign: message.campaign ?? event.campaign,
      };
      if (message.campaign === null && event.campaign !== null) message.campaign = event.campaign;
    } else {
      known.set(event.messageId, {
        messageId: event.messageId,
        address: event.address,
        sender: event.sender,
        channel: event.channel,
        campaign: event.campaign,
        firstIndex: i,
      });
    }
    accepted.push(event);
    const key = eventKey(event.messageId, event.type);
    const duplicate = storedEvents.has(key) || seen.has(key);
    seen.add(key);
    results.push({
      messageId: event.messageId,
      type: event.type,
      status: duplicate ? "duplicate" : "recorded",
    });
  });

  // 2. Fold reports per (message, type): the earliest kept (core keepsEarlier).
  const earliest = new Map<string, TriggerEvent>();
  for (const event of accepted) {
    const key = eventKey(event.messageId, event.type);
    if (keepsEarlier(event, earliest.get(key))) earliest.set(key, event);
  }
  const toWrite: TriggerEvent[] = [];
  const firings: Firing[] = [];
  const deadlines: { accountId: string; ruleId: string; messageId: string; dueAt: string }[] = [];
  for (const [key, event] of earliest) {
    const before = storedEvents.get(key);
    if (before && !keepsEarlier(event, before)) continue; // a plain duplicate: nothing to write
    toWrite.push(event);
    // Rules fire on the first report only; a re-report with an earlier time moves deadlines only.
    if (!before) {
      for (const rule of triggersFiredBy(event, rules)) {
        firings.push({
          rule,
          messageId: event.messageId,
          address: event.address,
          event,
        });
      }
    }
    for (const { rule, dueAt } of deadlinesStartedBy(event, rules)) {
      deadlines.push({ accountId, ruleId: rule.id, messageId: event.messageId, dueAt });
    }
  }

  if (deadlines.length > MAX_DEADLINES_PER_REQUEST) {
    throw new ApiError(
      400,
      "invalid_input",
      `events: would schedule ${deadlines.length} not_opened deadlines (each sent/delivered event × ` +
        `each not_opened rule it matches); at most ${MAX_DEADLINES_PER_REQUEST} per request: send fewer events per request`,
    );
  }

  const writes = (): D1PreparedStatement[] => [
    ...upsertMessages(d1, accountId, [...known.values()], recordedAt),
    ...upsertEvents(d1, accountId, toWrite, recordedAt),
    ...upsertDeadlines(d1, deadlines, recordedAt),
  ];

  let fired: FiredTrigger[] = [];
  if (firings.length > 0) {
    const outcomes = await appendChanges(
      { db: deps.db, kv: deps.kv, now: () => now },
      firings.map(firingChange),
      { alsoWrite: (db, planned) => [...writes(), ...firingStatements(db, firings, planned, recordedAt)] },
    );
    fired = firedTriggers(firings, outcomes);
  } else if (toWrite.length > 0) {
    await d1.batch(writes());
  }
  if (fired.length > 0 || deadlines.length > 0) {
    log.info("trigger_events", {
      accountId,
      events: events.length,
      fired: fired.length,
      deadlines: deadlines.length,
    });
  }
  return { results, fired, deadlinesScheduled: deadlines.length };
}

/**
 * An event the edge produced itself (a confirmed opt-out link click; a keyword reply from an SMS
 * provider): recorded like a posted one, and fires `link_click` / `keyword_reply` rules. Never
 * throws for a conflict: a known message keeps its identity. Storage errors propagate (the
 * caller's request should fail and be retried).
 */
export async function recordInternalEvent(
  deps: EventDeps,
  accountId: string,
  event: TriggerEvent,
): Promise<RecordEventsResult> {
  return recordEvents(deps, accountId, [event], { strict: false });
}

function identityMismatch(message: StoredMessage, event: TriggerEvent): string | null {
  if (message.address !== event.address) return "address";
  if (message.sender !== event.sender) return "sender";
  if (message.channel !== event.channel) return "channel";
  if (message.campaign !== null && event.campaign !== null && message.campaign !== event.campaign)
    return "campaign";
  return null;
}

// ---------- statements ----------

function upsertMessages(
  d1: D1Database,
  accountId: string,
  rows: readonly StoredMessage[],
  createdAt: string,
) {
  // `WHERE true` resolves SQLite's parsing ambiguity between a SELECT's join and ON CONFLICT. A
  // campaign is only ever filled in, never changed.
  const sql = `INSERT INTO messages (account_id, message_id, address, sender, channel, campaign, created_at)
    SELECT ?3, ${jsonFields("messageId", "address", "sender", "channel", "campaign")}, ?2
    FROM json_each(?1) WHERE true
    ON CONFLICT (account_id, message_id) DO UPDATE SET campaign = excluded.campaign
    WHERE messages.campaign IS NULL AND excluded.campaign IS NOT NULL`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json, createdAt, accountId));
}

function upsertEvents(
  d1: D1Database,
  accountId: string,
  events: readonly TriggerEvent[],
  recordedAt: string,
) {
  const rows = events.map((e) => ({
    messageId: e.messageId,
    type: e.type,
    occurredAt: e.occurredAt,
    origin: e.origin,
    keyword: e.keyword ?? null,
  }));
  // The earlier occurredAt of two reports is kept. `WHERE true`: see upsertMessages.
  const sql = `INSERT INTO message_events (account_id, message_id, type, occurred_at, recorded_at, origin, keyword)
    SELECT ?2, ${jsonFields("messageId", "type", "occurredAt")}, ?3, ${jsonFields("origin", "keyword")}
    FROM json_each(?1) WHERE true
    ON CONFLICT (account_id, message_id, type) DO UPDATE SET occurred_at = excluded.occurred_at
    WHERE excluded.occurred_at < message_events.occurred_at`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json, accountId, recordedAt));
}

function upsertDeadlines(
  d1: D1Database,
  rows: readonly { accountId: string; ruleId: string; messageId: string; dueAt: string }[],
  createdAt: string,
) {
  // A settled deadline is final; a pending one only ever moves earlier.
  const sql = `INSERT INTO trigger_deadlines (account_id, rule_id, message_id, due_at, status, created_at)
    SELECT ${jsonFields("accountId", "ruleId", "messageId", "dueAt")}, 'pending', ?2
    FROM json_each(?1) WHERE true
    ON CONFLICT (rule_id, message_id) DO UPDATE SET due_at = excluded.due_at
    WHERE trigger_deadlines.status = 'pending' AND excluded.due_at < trigger_deadlines.due_at`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json, createdAt));
}
