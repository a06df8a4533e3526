/**
 * Each kind of write, planned into a group commit: the decisions come from core; what is left
 * here is which rows record them. A planner returns `finish`, which turns the committed plan into
 * the op's answer once the feed positions are known.
 */
import {
  entryKey,
  firingOccurredAt,
  isPendingSeq,
  type LedgerChange,
  type LedgerOutcome,
  OPENING_EVENTS,
  planEvents,
  scopeKey,
  settleDeadline,
  type TriggerEvent,
  triggerEvidence,
} from "@optout/core";
import { jsonChunks, jsonFields } from "../db/json-rows.ts";
import type { StoredRule } from "../triggers/rules.ts";
import { changedBy, decideConfirmation, type OwedConfirmation, recordConfirmations } from "./confirm-plan.ts";
import { type Committed, eventSeqSql, type GroupPlan } from "./group.ts";
import { activeOf, inboundKey, type Needs } from "./knowledge.ts";
import type {
  ChangeResult,
  EventsResult,
  FiredTrigger,
  InboundMessageResult,
  ProviderEventsResult,
  ReviewResult,
  WriteAnswer,
  WriteOp,
  WriteRefusal,
} from "./ops.ts";

export type Finish = (committed: Committed) => WriteAnswer;
export type Planned = { ok: true; finish: Finish } | { ok: false; refusal: WriteRefusal };

/** What an op needs read before it can be planned at all (beyond what may be assumed absent). */
export function prefetchOf(op: WriteOp): Partial<Needs> {
  switch (op.kind) {
    case "changes":
    case "link_undo":
      return {};
    case "inbound":
    case "link_opt_out":
      return { rules: true };
    case "review":
      return {};
    case "events":
    case "provider_events":
      // Re-reports are common: read the messages rather than assume them new and fail the guard.
      return { rules: true, messages: new Set(op.events.map((e) => e.messageId)) };
    case "settle":
      return { messages: new Set(op.deadlines.map((d) => d.messageId)) };
    case "import":
      // Imports overlap lists already here (a re-import, an export of the same CRM): read the
      // addresses the writer does not know rather than assume them new and fail the guard.
      return { addresses: new Set(op.chunk.items.map((i) => i.change.address)) };
  }
}

export async function planOp(g: GroupPlan, op: WriteOp): Promise<Planned> {
  switch (op.kind) {
    case "changes":
      return planChangesOp(g, op);
    case "inbound":
      return planInbound(g, op);
    case "review":
      return planReview(g, op);
    case "link_opt_out":
      return planLinkOptOut(g, op);
    case "link_undo":
      return planLinkUndo(g, op);
    case "events": {
      const recorded = await recordEvents(g, op.events, op.strict);
      if (!recorded.ok) return recorded;
      return {
        ok: true,
        finish: (c) => ({ ok: true, result: { kind: "events", result: recorded.finish(c) } }),
      };
    }
    case "provider_events":
      return planProviderEvents(g, op);
    case "settle":
      return planSettle(g, op);
    case "import":
      return planImport(g, op);
  }
}

/** A ledger outcome with feed positions. */
function changeResult(g: GroupPlan, outcome: LedgerOutcome, c: Committed): ChangeResult {
  const withAccount = <E>(e: E) => ({ ...e, accountId: g.accountId });
  switch (outcome.status) {
    case "appended":
      return {
        status: "appended",
        event: { ...outcome.event, seq: c.seqOf(outcome.event.id) },
        applied: outcome.applied,
        entry: withAccount(c.entryAfter(outcome.entry)),
      };
    case "unchanged":
    case "changed_since":
      return {
        status: outcome.status,
        entry: outcome.entry ? withAccount(c.entryAfter(outcome.entry)) : null,
      };
  }
}

// ---------- changes (API, primary database) ----------

async function planChangesOp(g: GroupPlan, op: Extract<WriteOp, { kind: "changes" }>): Promise<Planned> {
  const replays = new Map<number, { seq: number; applied: boolean } | "pending">();
  const toAppend: { index: number; change: LedgerChange; syncChangeId?: string }[] = [];
  for (const [index, item] of op.items.entries()) {
    if (item.syncChangeId) {
      const before = g.synced(item.syncChangeId);
      if (before) {
        replays.set(index, before);
        continue;
      }
      // The same id twice in one request: the second is a replay of the first.
      if (g.syncPending(item.syncChangeId)) {
        replays.set(index, "pending");
        continue;
      }
      g.markSync(item.syncChangeId);
    }
    toAppend.push({ index, change: item.change, syncChangeId: item.syncChangeId });
  }
  const outcomes = await g.append(toAppend.map((a) => a.change));
  const synced = toAppend.flatMap((a, i) => {
    const o = outcomes[i]!;
    return a.syncChangeId && o.status === "appended"
      ? [{ changeId: a.syncChangeId, eventId: o.event.id, applied: o.applied ? 1 : 0 }]
      : [];
  });
  if (synced.length > 0) {
    // A plain INSERT: an id recorded by someone else since the writer learned otherwise fails the
    // whole batch (PRIMARY KEY), and the writer reads it and plans again.
    g.statements.push((d1) =>
      jsonChunks(synced).map((json) =>
        d1
          .prepare(
            `INSERT INTO sync_applied (change_id, seq, applied, recorded_at)
            SELECT json_extract(value, '$.changeId'), ${eventSeqSql("eventId")}, json_extract(value, '$.applied'), ?2
            FROM json_each(?1)`,
          )
          .bind(json, g.recordedAt),
      ),
    );
  }
  return {
    ok: true,
    finish: (c) => {
      const results: ChangeResult[] = new Array(op.items.length);
      toAppend.forEach((a, i) => {
        const result = changeResult(g, outcomes[i]!, c);
        results[a.index] = result;
        if (a.syncChangeId && result.status === "appended")
          g.rememberSync(a.syncChangeId, result.event.seq, result.applied);
      });
      for (const [index, replay] of replays) {
        if (replay !== "pending") results[index] = { status: "replayed", ...replay };
        else {
          const first =
            results[toAppend.find((a) => a.syncChangeId === op.items[index]!.syncChangeId)!.index]!;
          results[index] =
            first.status === "appended"
              ? { status: "replayed", seq: first.event.seq, applied: first.applied }
              : first;
        }
      }
      return { ok: true, result: { kind: "changes", results } };
    },
  };
}

// ---------- blocklist imports ----------

/**
 * The next rows of an import, with the import's progress in the same batch: committed only if the
 * import still stands where the route read it (a second request importing the same file, or a
 * reset, refuses this one with 409), so each row is recorded once.
 */
async function planImport(g: GroupPlan, op: Extract<WriteOp, { kind: "import" }>): Promise<Planned> {
  const { chunk } = op;
  const at = g.importAt(chunk.digest, chunk.afterRow);
  if (at !== chunk.afterRow) {
    const message =
      at === null
        ? "this import was reset (its file did not match its digest); post the file again"
        : `this import is at row ${at}, not ${chunk.afterRow}: another request is importing the same file; retry to resume`;
    return { ok: false, refusal: { status: 409, code: "conflict", message } };
  }
  g.moveImport(chunk.digest, chunk.afterRow, chunk.toRow);
  const outcomes = await g.append(
    chunk.items.map((i) => i.change),
    { quietNew: true },
  );
  let imported = 0;
  let unchanged = 0;
  let superseded = 0;
  for (const o of outcomes) {
    if (o.status !== "appended") unchanged++;
    else if (o.applied) imported++;
    else superseded++;
  }
  const accountId = g.accountId;
  const updatedAt = g.recordedAt;
  g.statements.push((d1) => [
    d1
      .prepare(
        `UPDATE imports SET rows_done = ?3, imported = imported + ?4, unchanged = unchanged + ?5,
          superseded = superseded + ?6, refused = refused + ?7, refusals = ?8, updated_at = ?9, prefix_digest = ?10
        WHERE account_id = ?1 AND digest = ?2`,
      )
      .bind(
        accountId,
        chunk.digest,
        chunk.toRow,
        imported,
        unchanged,
        superseded,
        chunk.refused,
        chunk.refusals,
        updatedAt,
        chunk.prefixDigest,
      ),
  ]);
  return {
    ok: true,
    finish: () => ({ ok: true, result: { kind: "import", imported, unchanged, superseded } }),
  };
}

// ---------- inbound messages (MO) ----------

async function planInbound(g: GroupPlan, op: Extract<WriteOp, { kind: "inbound" }>): Promise<Planned> {
  const planned: {
    index: number;
    outcomes: LedgerOutcome[];
    events: Awaited<ReturnType<typeof recordEvents>>;
  }[] = [];
  const replays = new Set<number>();
  const records: Record<string, unknown>[] = [];
  const confirmations = new Map<number, string>();
  const owed: OwedConfirmation[] = [];
  for (const [index, message] of op.messages.entries()) {
    const key = inboundKey(op.provider, message.providerMessageId);
    if (g.inboundRecorded(key)) {
      replays.add(index);
      continue;
    }
    g.markInbound(key);
    const outcomes = await g.append(message.changes);
    const c = message.classification;
    // Decided now, from what this plan leaves the address with; sent after the commit.
    const confirmation = decideConfirmation(g, op.confirm, {
      classification: c,
      address: message.address,
      sender: message.sender,
      channel: message.replied.channel === "*" ? "sms" : message.replied.channel,
      outcomes,
    });
    if (confirmation !== null) {
      confirmations.set(index, confirmation);
      if (op.confirm.via === "send_api") {
        owed.push({
          subject: `inbound:${op.provider}:${message.providerMessageId}`,
          address: message.address,
          sender: message.sender,
          text: confirmation,
        });
      }
    }
    records.push({
      id: message.providerMessageId,
      address: message.address,
      sender: message.sender,
      action: c.action,
      ruleId: c.ruleId ?? null,
      keyword: c.keyword ?? null,
      language: c.language ?? null,
      review: c.review ? 1 : 0,
      // Only a message a person must read is kept; the rest are in the ledger's evidence or unneeded.
      text: c.review ? (message.replied.text ?? null) : null,
      eventIds: outcomes.flatMap((o) => (o.status === "appended" ? [o.event.id] : [])),
      receivedAt: message.occurredAt,
    });
    // Every new message is a `replied` event, so keyword_reply trigger rules see it.
    const events = await recordEvents(g, [message.replied], false);
    planned.push({ index, outcomes, events });
  }
  if (records.length > 0) {
    // The outer rows are `m`: the seqs subquery has a json_each of its own.
    const field = (name: string) => `json_extract(m.value, '$.${name}')`;
    // A plain INSERT: a message recorded by someone else since the writer learned otherwise fails
    // the batch (UNIQUE), and the writer reads and plans again: still one effect per message.
    g.statements.push((d1) =>
      jsonChunks(records).map((json) =>
        d1
          .prepare(
            `INSERT INTO inbound_messages (account_id, provider, provider_message_id, address, sender, action,
              rule_id, keyword, language, review, text, seqs, received_at, recorded_at)
            SELECT ?1, ?2, ${["id", "address", "sender", "action", "ruleId", "keyword", "language", "review", "text"].map(field).join(", ")},
              (SELECT json_group_array(seq) FROM (SELECT seq FROM ledger_events
                WHERE id IN (SELECT value FROM json_each(${field("eventIds")})) ORDER BY seq)),
              ${field("receivedAt")}, ?4
            FROM json_each(?3) AS m`,
          )
          .bind(g.accountId, op.provider, json, g.recordedAt),
      ),
    );
  }
  recordConfirmations(g, op.provider, owed);
  // WhatsApp's statuses ride in the same webhook, so they commit with its messages.
  const statuses = op.statuses
    ? await planProviderEvents(g, { kind: "provider_events", provider: op.provider, ...op.statuses })
    : null;
  if (statuses && !statuses.ok) return statuses;
  return {
    ok: true,
    finish: (c) => {
      const messages: InboundMessageResult[] = op.messages.map((m, index) => ({
        providerMessageId: m.providerMessageId,
        replay: replays.has(index),
        classification: m.classification,
        changed: false,
        activeAfter: activeOf(c.entriesAfter(m.address)),
        confirmation: confirmations.get(index) ?? null,
      }));
      for (const p of planned) {
        if (p.events.ok) p.events.finish(c);
        messages[p.index]!.changed = changedBy(p.outcomes);
      }
      if (statuses) statuses.finish(c);
      return { ok: true, result: { kind: "inbound", messages } };
    },
  };
}

// ---------- provider event webhooks ----------

/**
 * A provider's events and opt-outs in one commit. Each opt-out is applied once per provider event
 * id (its receipt row commits with its ledger event), so a redelivery changes nothing even if the
 * address was opted back in since. A Mailgun token seen before with another body stops the op.
 */
async function planProviderEvents(
  g: GroupPlan,
  op: Extract<WriteOp, { kind: "provider_events" }>,
): Promise<Planned> {
  const receipts: { receiptId: string; fingerprint: string | null }[] = [];
  if (op.token) {
    const seen = g.receipt(op.provider, op.token.id);
    if (seen !== undefined && seen !== op.token.fingerprint) {
      const result: ProviderEventsResult = { tokenReused: true, events: null, optOuts: [] };
      return { ok: true, finish: () => ({ ok: true, result: { kind: "provider_events", result } }) };
    }
    if (seen === undefined) {
      g.markReceipt(op.provider, op.token.id, op.token.fingerprint);
      receipts.push({ receiptId: op.token.id, fingerprint: op.token.fingerprint });
    }
  }
  const fresh = op.optOuts.filter((o) => {
    if (g.receipt(op.provider, o.receiptId) !== undefined) return false;
    g.markReceipt(op.provider, o.receiptId, null);
    receipts.push({ receiptId: o.receiptId, fingerprint: null });
    return true;
  });
  const outcomes = await g.append(fresh.map((o) => o.change));
  const events = op.events.length > 0 ? await recordEvents(g, op.events, false) : null;
  if (events && !events.ok) return events;
  if (receipts.length > 0) {
    const accountId = g.accountId;
    // A plain INSERT: a receipt recorded by someone else since the writer learned otherwise fails
    // the batch (PRIMARY KEY), and the writer reads and plans again: still one effect per event.
    g.statements.push((d1) =>
      jsonChunks(receipts).map((json) =>
        d1
          .prepare(
            `INSERT INTO provider_event_receipts (account_id, provider, receipt_id, fingerprint, recorded_at)
            SELECT ?1, ?2, ${jsonFields("receiptId", "fingerprint")}, ?4 FROM json_each(?3)`,
          )
          .bind(accountId, op.provider, json, g.recordedAt),
      ),
    );
  }
  return {
    ok: true,
    finish: (c) => {
      const appended = new Map(fresh.map((o, i) => [o.receiptId, outcomes[i]!]));
      const optOuts = op.optOuts.map((o): ProviderEventsResult["optOuts"][number] => {
        const outcome = appended.get(o.receiptId);
        if (!outcome) return { receiptId: o.receiptId, status: "replay", seq: null };
        return outcome.status === "appended"
          ? { receiptId: o.receiptId, status: "appended", seq: c.seqOf(outcome.event.id) }
          : { receiptId: o.receiptId, status: "unchanged", seq: null };
      });
      const result: ProviderEventsResult = {
        tokenReused: false,
        events: events?.ok ? events.finish(c) : null,
        optOuts,
      };
      return { ok: true, result: { kind: "provider_events", result } };
    },
  };
}

// ---------- links ----------

async function planLinkOptOut(
  g: GroupPlan,
  op: Extract<WriteOp, { kind: "link_opt_out" }>,
): Promise<Planned> {
  const [outcome] = await g.append([op.plan.change]);
  if (outcome?.status === "appended") {
    const row = {
      at: outcome.event.occurredAt,
      eventId: outcome.event.id,
      scopeKey: scopeKey(op.plan.scope),
      codeHash: op.link.codeHash,
    };
    // The link's bookkeeping commits with the event it records.
    g.statements.push((d1) => [
      d1
        .prepare(
          `UPDATE links SET opted_out_at = json_extract(?1, '$.at'), opt_out_seq = ${eventSeqSql("eventId").replaceAll("value", "?1")},
            opt_out_scope_key = json_extract(?1, '$.scopeKey'), undone_at = NULL
          WHERE code_hash = json_extract(?1, '$.codeHash')`,
        )
        .bind(JSON.stringify(row)),
    ]);
    g.kvLinks.add(op.link.codeHash);
  }
  // A confirmed click is a message event too: it fires the account's link_click trigger rules.
  const events = await recordEvents(g, [op.plan.click], false);
  return {
    ok: true,
    finish: (c) => {
      if (events.ok) events.finish(c);
      return {
        ok: true,
        result: { kind: "link_opt_out", scope: op.plan.scope, result: changeResult(g, outcome!, c) },
      };
    },
  };
}

async function planLinkUndo(g: GroupPlan, op: Extract<WriteOp, { kind: "link_undo" }>): Promise<Planned> {
  const [outcome] = await g.append([op.change]);
  // Undone: by this opt_in, or already by someone who lifted the entry since (nothing left to undo).
  const undone =
    outcome?.status === "appended" || (outcome?.status === "changed_since" && !outcome.entry?.active);
  if (undone) {
    g.statements.push((d1) => [
      d1.prepare("UPDATE links SET undone_at = ?1 WHERE code_hash = ?2").bind(g.recordedAt, op.link.codeHash),
    ]);
    g.kvLinks.add(op.link.codeHash);
  }
  return {
    ok: true,
    finish: (c) => {
      const result = changeResult(g, outcome!, c);
      return {
        ok: true,
        result: {
          kind: "link_undo",
          result:
            undone && result.status === "changed_since"
              ? { status: "unchanged", entry: result.entry }
              : result,
        },
      };
    },
  };
}

// ---------- message events and the triggers they fire ----------

type Recorded = { ok: true; finish: (c: Committed) => EventsResult } | { ok: false; refusal: WriteRefusal };

/**
 * Records message events (core `planEvents`) and fires rules: firings append `opt_out` events with
 * source `trigger`, and their rows commit with them.
 */
async function recordEvents(
  g: GroupPlan,
  events: readonly TriggerEvent[],
  strict: boolean,
): Promise<Recorded> {
  const rules = g.rules();
  const decided = planEvents<StoredRule>({
    events,
    messageOf: (id) => g.message(id),
    eventOf: (id, type) => g.event(id, type),
    rules,
    strict,
  });
  if (!decided.ok) {
    const { status, message } = decided.problem;
    return { ok: false, refusal: { status, code: status === 409 ? "conflict" : "invalid_input", message } };
  }
  const plan = decided.plan;
  for (const m of plan.messages) g.noteMessage(m);
  for (const e of plan.events)
    g.noteEvent(e.messageId, e.type, { occurredAt: e.occurredAt, origin: e.origin });

  const firings = plan.firings.map(({ rule, event }) => ({ rule, event, change: firingChange(rule, event) }));
  const outcomes = await g.append(firings.map((f) => f.change));
  const accountId = g.accountId;
  const recordedAt = g.recordedAt;
  g.statements.push((d1) => [
    ...upsertMessages(d1, accountId, plan.messages, recordedAt),
    ...upsertEvents(d1, accountId, plan.events, recordedAt),
    ...upsertDeadlines(
      d1,
      plan.deadlines.map((d) => ({ accountId, ruleId: d.rule.id, messageId: d.messageId, dueAt: d.dueAt })),
      recordedAt,
    ),
    ...firingRows(d1, firings, outcomes, accountId, recordedAt),
  ]);
  return {
    ok: true,
    finish: (c) => ({
      results: plan.results,
      fired: firings.map((f, i): FiredTrigger => {
        const o = outcomes[i]!;
        if (o.status === "appended")
          return {
            ruleId: f.rule.id,
            messageId: f.event.messageId,
            seq: c.seqOf(o.event.id),
            appended: true,
          };
        const entry = o.entry ? c.entryAfter(o.entry) : null;
        return { ruleId: f.rule.id, messageId: f.event.messageId, seq: entry?.seq ?? 0, appended: false };
      }),
      deadlinesScheduled: plan.deadlines.length,
    }),
  };
}

/**
 * A rule's firing as a change: the rule's entry (address, rule channel, rule scope) goes on the
 * blocklist, once; its occurredAt is the event's (or the deadline), so a late firing orders
 * against other changes by when things happened.
 */
export function firingChange(rule: StoredRule, event: TriggerEvent, dueAt?: string): LedgerChange {
  return {
    address: event.address,
    channel: rule.channel,
    scope: rule.scope,
    action: "opt_out",
    source: "trigger",
    occurredAt: firingOccurredAt(rule, event, dueAt),
    evidence: triggerEvidence(rule, [event], dueAt === undefined ? undefined : { dueAt }),
    reason: `trigger: ${rule.name}`,
    skipIfUnchanged: true,
  };
}

/**
 * The firing rows. A firing that appended an event is a plain INSERT: the rule already fired for
 * the message would fail the whole batch (PRIMARY KEY) and the writer reads and plans again. One
 * that appended nothing (the address was already blocked there) points at the event in force.
 */
export function firingRows(
  d1: D1Database,
  firings: readonly { rule: StoredRule; event: TriggerEvent; change: LedgerChange; dueAt?: string }[],
  outcomes: readonly LedgerOutcome[],
  accountId: string,
  firedAt: string,
): D1PreparedStatement[] {
  const rows = firings.map((f, i) => {
    const o = outcomes[i]!;
    const base = {
      ruleId: f.rule.id,
      messageId: f.event.messageId,
      accountId,
      occurredAt: f.change.occurredAt,
    };
    if (o.status === "appended") return { ...base, appended: 1, eventId: o.event.id, seq: null };
    const entry = o.entry as (typeof o.entry & { eventId?: string }) | null;
    // The entry in force may have been moved earlier in this same commit: resolve its seq in SQL.
    if (entry && isPendingSeq(entry.seq))
      return { ...base, appended: 0, eventId: entry.eventId ?? null, seq: null };
    return { ...base, appended: 0, eventId: null, seq: entry?.seq ?? 0 };
  });
  const insert = (
    verb: string,
  ) => `${verb} INTO trigger_firings (rule_id, message_id, account_id, seq, appended,
      occurred_at, fired_at)
    SELECT ${jsonFields("ruleId", "messageId", "accountId")},
      COALESCE(json_extract(value, '$.seq'), ${eventSeqSql("eventId")}), ${jsonFields("appended", "occurredAt")}, ?2
    FROM json_each(?1)`;
  return [
    ...jsonChunks(rows.filter((r) => r.appended)).map((json) =>
      d1.prepare(insert("INSERT")).bind(json, firedAt),
    ),
    ...jsonChunks(rows.filter((r) => !r.appended)).map((json) =>
      d1.prepare(insert("INSERT OR IGNORE")).bind(json, firedAt),
    ),
  ];
}

function upsertMessages(d1: D1Database, accountId: string, rows: readonly object[], createdAt: string) {
  // A campaign is only ever filled in, never changed.
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
  // The earlier occurredAt of two reports is kept.
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

export { entryKey };

// ---------- not_opened deadlines ----------

type Settlement = { status: "fired" | "cancelled" | "skipped"; reason: string | null };

/**
 * Settles due deadlines (core `settleDeadline`): fire (an opt_out with source `trigger`, its
 * firing row, and the deadline's status in the same commit), cancel (opened or clicked in time)
 * or skip (rule deleted or disabled). A guard fails the commit if any of them is no longer pending.
 */
async function planSettle(g: GroupPlan, op: Extract<WriteOp, { kind: "settle" }>): Promise<Planned> {
  const now = new Date(op.now);
  const settlements = new Map<number, Settlement>();
  const firings: { deadlineId: number; rule: StoredRule; event: TriggerEvent; change: LedgerChange }[] = [];
  const firstOpen = (messageId: string) => {
    let first: { type: "opened" | "clicked"; occurredAt: string } | null = null;
    for (const type of OPENING_EVENTS) {
      const e = g.event(messageId, type);
      if (e && (first === null || e.occurredAt < first.occurredAt))
        first = { type, occurredAt: e.occurredAt };
    }
    return first;
  };
  for (const d of op.deadlines) {
    if (d.alreadyFired) {
      settlements.set(d.id, { status: "fired", reason: "already_fired" });
      continue;
    }
    const decision = settleDeadline({ dueAt: d.dueAt, rule: d.rule, firstOpen: firstOpen(d.messageId) }, now);
    switch (decision.action) {
      case "wait":
        break;
      case "skip":
      case "cancel":
        settlements.set(d.id, {
          status: decision.action === "skip" ? "skipped" : "cancelled",
          reason: decision.reason,
        });
        break;
      case "fire": {
        const rule = d.rule;
        const message = g.message(d.messageId);
        const after = rule?.on.type === "not_opened" ? g.event(d.messageId, rule.on.after) : null;
        if (!rule || !message || !after || rule.on.type !== "not_opened") {
          // Cannot happen while deadlines are only written with their message and event.
          settlements.set(d.id, { status: "skipped", reason: "event_missing" });
          break;
        }
        const event: TriggerEvent = {
          type: rule.on.after,
          messageId: d.messageId,
          address: message.address,
          sender: message.sender,
          channel: message.channel,
          occurredAt: after.occurredAt,
          campaign: message.campaign,
          origin: after.origin,
        };
        firings.push({ deadlineId: d.id, rule, event, change: firingChange(rule, event, d.dueAt) });
        settlements.set(d.id, { status: "fired", reason: null });
      }
    }
  }
  const outcomes = await g.append(firings.map((f) => f.change));
  const accountId = g.accountId;
  const settledAt = g.recordedAt;
  const ids = [...settlements.keys()];
  g.statements.push((d1) => [
    // Each deadline is settled once: one settled meanwhile (by an earlier writer that died after
    // its commit) fails this commit, and the writer plans again from a fresh read.
    d1
      .prepare(
        `INSERT INTO writer_guard (ok) SELECT 0 FROM json_each(?1) j WHERE NOT EXISTS
          (SELECT 1 FROM trigger_deadlines WHERE id = j.value AND status = 'pending')`,
      )
      .bind(JSON.stringify(ids)),
    d1
      .prepare(
        "INSERT INTO writer_guard (ok) SELECT 0 FROM accounts WHERE id = ?1 AND trigger_rules_version != ?2",
      )
      .bind(accountId, op.rulesVersion),
    ...firingRows(
      d1,
      firings.map((f) => ({ ...f, dueAt: undefined })),
      outcomes,
      accountId,
      settledAt,
    ),
    ...[...groupBy(settlements)].map(([key, deadlineIds]) => {
      const [status, reason] = JSON.parse(key) as [string, string | null];
      return d1
        .prepare(
          `UPDATE trigger_deadlines SET status = ?1, settled_reason = ?2, settled_at = ?3, claim_id = NULL,
            claimed_until = NULL
          WHERE id IN (SELECT value FROM json_each(?4)) AND status = 'pending'`,
        )
        .bind(status, reason, settledAt, JSON.stringify(deadlineIds));
    }),
  ]);
  let cancelled = 0;
  let skipped = 0;
  for (const s of settlements.values()) {
    if (s.status === "cancelled") cancelled++;
    if (s.status === "skipped") skipped++;
  }
  return {
    ok: true,
    finish: () => ({ ok: true, result: { kind: "settle", fired: firings.length, cancelled, skipped } }),
  };
}

function groupBy(settlements: ReadonlyMap<number, Settlement>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const [id, s] of settlements) {
    const key = JSON.stringify([s.status, s.reason]);
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  return groups;
}

// ---------- review decisions ----------

/** Review items this writer saw decided (committed), and ones decided by the group being planned. */
const decidedReviews = new WeakMap<object, Set<number>>();
const setOf = (key: object) => {
  let set = decidedReviews.get(key);
  if (!set) {
    set = new Set();
    decidedReviews.set(key, set);
  }
  return set;
};

/**
 * A person's decision on a held message, once: the item's decision and, for an opt-out, the
 * keyword's changes (core `planReviewOptOut`) and its confirmation, in one batch whose guard fails
 * if the item was decided meanwhile. A second decision of an item is refused (409).
 */
async function planReview(g: GroupPlan, op: Extract<WriteOp, { kind: "review" }>): Promise<Planned> {
  const { decision } = op;
  const committed = setOf(g.knowledge);
  const pending = setOf(g);
  if (committed.has(decision.id) || pending.has(decision.id)) {
    return {
      ok: false,
      refusal: { status: 409, code: "conflict", message: "this item was already decided" },
    };
  }
  pending.add(decision.id);
  let outcomes: LedgerOutcome[] = [];
  let confirmation: ReviewResult["confirmation"] = null;
  if (decision.action === "opt_out") {
    outcomes = await g.append(decision.plan.changes);
    const channel = decision.plan.changes[0]?.channel;
    const text = decideConfirmation(g, op.confirm, {
      classification: decision.plan.classification,
      address: decision.address,
      sender: decision.sender,
      channel: channel === undefined || channel === "*" ? "sms" : channel,
      outcomes,
    });
    if (text !== null) {
      const viaApi = op.confirm.via === "send_api";
      confirmation = { text, delivery: viaApi ? "send_api" : "none" };
      if (viaApi) {
        recordConfirmations(g, decision.provider, [
          { subject: `review:${decision.id}`, address: decision.address, sender: decision.sender, text },
        ]);
      }
    }
  }
  const eventIds = outcomes.flatMap((o) => (o.status === "appended" ? [o.event.id] : []));
  const accountId = g.accountId;
  const decidedAt = g.recordedAt;
  g.statements.push((d1) => [
    // Decided once: a decision recorded since the route read the item fails the whole batch.
    d1
      .prepare(
        `INSERT INTO writer_guard (ok) SELECT 0 FROM inbound_messages
          WHERE id = ?1 AND account_id = ?2 AND decision IS NOT NULL`,
      )
      .bind(decision.id, accountId),
    // The item keeps the link to every ledger event it caused, the decision's too.
    d1
      .prepare(
        `UPDATE inbound_messages SET decision = ?3, decided_at = ?4,
          seqs = (SELECT json_group_array(seq) FROM (
            SELECT value AS seq FROM json_each(inbound_messages.seqs)
            UNION ALL SELECT seq FROM ledger_events WHERE id IN (SELECT value FROM json_each(?5))
            ORDER BY seq))
        WHERE id = ?1 AND account_id = ?2 AND review = 1`,
      )
      .bind(decision.id, accountId, decision.action, decidedAt, JSON.stringify(eventIds)),
  ]);
  return {
    ok: true,
    finish: (c) => {
      committed.add(decision.id);
      const result: ReviewResult = {
        decision: decision.action,
        decidedAt,
        results: outcomes.map((o) => changeResult(g, o, c)),
        confirmation,
      };
      return { ok: true, result: { kind: "review", result } };
    },
  };
}
