/**
 * The writer's side of confirmations owed through a provider's send API (recorded in
 * `outbound_confirmations` by the commit that made the change): after each such commit, and from
 * its alarm and the cron, the account's writer sends what is due.
 *
 * At most once per change. Each attempt first claims its row in D1 (`pending` → `sending`); the
 * answer then settles it: `sent`; `pending` again with a later `next_attempt_at` when the provider
 * said it did not take it (429, 5xx, Vonage's "throttled"); `failed` when it never will (other
 * 4xx, no credentials, out of attempts). A request with no answer (a timeout, a dropped
 * connection) may have been taken: its row becomes `unknown` and is never sent again, and so is a
 * row an earlier instance left `sending`. A second confirmation is the worse failure (ADR 0007).
 * Nothing here logs an address, a text or a credential.
 */
import {
  buildSendRequest,
  isSendApiProvider,
  type SendApiProvider,
  type SendCredentials,
  sendOutcome,
} from "@optout/core";
import { sendApiBaseUrl } from "../config.ts";
import { readSendCredentials } from "../inbound/provider-store.ts";
import { errorName, log } from "../lib/log.ts";

/** Attempts per confirmation; the waits between them (ms) after each retryable answer. */
export const CONFIRMATION_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
const MAX_ATTEMPTS = CONFIRMATION_BACKOFF_MS.length + 1;
/** A send API that has not answered in this long may still have taken the message. */
const SEND_TIMEOUT_MS = 10_000;
/** A row `sending` for longer than this was left by an instance that died mid-attempt. */
const STALE_SENDING_MS = 60_000;
/** Waits this short are slept through in the same event; longer ones are left to the alarm. */
const INLINE_WAIT_MS = 5_000;
const BATCH = 50;
/** The answer's body is read this far (Vonage's status sits at its start). */
const MAX_ANSWER_CHARS = 4096;

interface DueRow {
  id: number;
  provider: string;
  address: string;
  sender: string;
  text: string;
  attempts: number;
}

export class ConfirmationSender {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly env: Env,
    private readonly accountId: () => string | undefined,
    /** Arms the writer's alarm to ring in `delayMs` (unless it rings sooner). */
    private readonly wakeIn: (delayMs: number) => Promise<void>,
  ) {}

  /** Sends what is due; one pass at a time (a call during a pass runs another after it). */
  deliver(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no pass is running (for tests). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        const nextIn = await this.pass();
        if (nextIn !== null && nextIn <= INLINE_WAIT_MS) {
          await new Promise((r) => setTimeout(r, Math.max(0, nextIn)));
          this.again = true;
        } else if (nextIn !== null) {
          await this.wakeIn(nextIn);
        }
      } catch (err) {
        // D1 unreachable: the alarm comes back; nothing was sent without its claim recorded.
        log.error("confirmations_pass_failed", { accountId: this.accountId(), error: errorName(err) });
        await this.wakeIn(CONFIRMATION_BACKOFF_MS[1]!);
        return;
      }
    } while (this.again);
  }

  /** One pass over the due rows; the ms until the next pending row is due, or null if none. */
  private async pass(): Promise<number | null> {
    const accountId = this.accountId();
    if (!accountId) return null;
    const d1 = this.env.DB;
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    // Walks outbound_confirmations_open_idx for the account.
    await d1
      .prepare(
        `UPDATE outbound_confirmations SET state = 'unknown', last_error = 'attempt outcome lost', updated_at = ?3
        WHERE account_id = ?1 AND state = 'sending' AND updated_at <= ?2`,
      )
      .bind(accountId, new Date(now - STALE_SENDING_MS).toISOString(), nowIso)
      .run();
    const { results: due } = await d1
      .prepare(
        `SELECT id, provider, address, sender, text, attempts FROM outbound_confirmations
        WHERE account_id = ?1 AND state = 'pending' AND next_attempt_at <= ?2
        ORDER BY next_attempt_at LIMIT ?3`,
      )
      .bind(accountId, nowIso, BATCH)
      .all<DueRow>();
    const credentials = new Map<string, SendCredentials | null>();
    for (const row of due) {
      if (!credentials.has(row.provider))
        credentials.set(row.provider, await readSendCredentials(d1, accountId, row.provider));
      await this.attempt(accountId, row, credentials.get(row.provider) ?? null);
    }
    if (due.length === BATCH) return 0;
    const next = await d1
      .prepare(
        `SELECT MIN(next_attempt_at) AS at FROM outbound_confirmations WHERE account_id = ?1 AND state = 'pending'`,
      )
      .bind(accountId)
      .first<{ at: string | null }>();
    return next?.at ? Math.max(0, Date.parse(next.at) - Date.now()) : null;
  }

  private async attempt(accountId: string, row: DueRow, credentials: SendCredentials | null): Promise<void> {
    const d1 = this.env.DB;
    const settle = (
      state: "sent" | "failed" | "unknown" | "pending",
      error: string | null,
      nextAt?: string,
    ) =>
      d1
        .prepare(
          `UPDATE outbound_confirmations SET state = ?2, last_error = ?3, next_attempt_at = COALESCE(?4, next_attempt_at),
            updated_at = ?5 WHERE id = ?1`,
        )
        .bind(row.id, state, error, nextAt ?? null, new Date().toISOString())
        .run();
    const provider = row.provider;
    if (!isSendApiProvider(provider) || credentials === null) {
      await settle("failed", "no send credentials");
      log.warn("confirmation_failed", { accountId, provider, id: row.id, reason: "no send credentials" });
      return;
    }
    let request: ReturnType<typeof buildSendRequest>;
    try {
      request = buildSendRequest({
        provider,
        credentials,
        baseUrl: sendApiBaseUrl(this.env, provider),
        from: row.sender,
        to: row.address,
        text: row.text,
      });
    } catch (err) {
      await settle("failed", "misconfigured");
      log.error("confirmation_failed", { accountId, provider, id: row.id, reason: errorName(err) });
      return;
    }
    // The claim: recorded before the request leaves, so a crash during it never leads to a resend.
    const claimed = await d1
      .prepare(
        `UPDATE outbound_confirmations SET state = 'sending', attempts = attempts + 1, updated_at = ?2
        WHERE id = ?1 AND state = 'pending'`,
      )
      .bind(row.id, new Date().toISOString())
      .run();
    if ((claimed.meta.changes ?? 0) !== 1) return;
    const attempts = row.attempts + 1;
    let status: number;
    let body: string;
    try {
      const res = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      status = res.status;
      body = (await res.text()).slice(0, MAX_ANSWER_CHARS);
    } catch (err) {
      await settle("unknown", `no answer (${errorName(err)})`);
      log.warn("confirmation_unknown", { accountId, provider, id: row.id, attempts, error: errorName(err) });
      return;
    }
    const outcome = sendOutcome(provider as SendApiProvider, status, body);
    if (outcome.outcome === "sent") {
      await settle("sent", null);
      log.info("confirmation_sent", { accountId, provider, id: row.id, attempts });
      return;
    }
    if (outcome.outcome === "retry" && attempts < MAX_ATTEMPTS) {
      const wait = CONFIRMATION_BACKOFF_MS[attempts - 1]!;
      await settle("pending", outcome.reason, new Date(Date.now() + wait).toISOString());
      log.warn("confirmation_retry", { accountId, provider, id: row.id, attempts, reason: outcome.reason });
      return;
    }
    await settle("failed", outcome.reason);
    log.warn("confirmation_failed", { accountId, provider, id: row.id, attempts, reason: outcome.reason });
  }
}

/** A row due this long ago that is still open means its writer's alarm did not run: the cron asks it. */
const OVERDUE_MS = 60_000;

/**
 * The cron's backstop: asks the writers of accounts with confirmations overdue (or left
 * `sending`) to send them, and deletes settled rows older than the retention period. Returns how
 * many writers it asked.
 */
export async function repairConfirmations(
  env: Pick<Env, "DB" | "LEDGER_WRITER">,
  now: Date,
  retentionDays: number,
): Promise<number> {
  const overdue = new Date(now.getTime() - OVERDUE_MS).toISOString();
  // Partial index outbound_confirmations_open_idx holds only open rows: this reads few.
  const { results } = await env.DB.prepare(
    `SELECT DISTINCT account_id AS accountId FROM outbound_confirmations
    WHERE state IN ('pending', 'sending') AND next_attempt_at <= ?1 LIMIT 100`,
  )
    .bind(overdue)
    .all<{ accountId: string }>();
  await Promise.all(
    results.map(async ({ accountId }) => {
      try {
        await env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(accountId)).deliverConfirmations(accountId);
      } catch (err) {
        log.error("confirmations_repair_failed", { accountId, error: errorName(err) });
      }
    }),
  );
  await env.DB.prepare(
    `DELETE FROM outbound_confirmations WHERE id IN (SELECT id FROM outbound_confirmations
      WHERE updated_at < ?1 AND state IN ('sent', 'failed', 'unknown') ORDER BY updated_at LIMIT 5000)`,
  )
    .bind(new Date(now.getTime() - retentionDays * 86_400_000).toISOString())
    .run();
  return results.length;
}
