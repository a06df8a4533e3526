/** The send-API stand-in (test/send-api-standin.ts) as tests see it, and waiting for the writer's sends. */
import { env } from "cloudflare:workers";

export interface StandInRequest {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: string;
  status: number;
}

/** What the stand-in received whose body or authorization contains `match`, in arrival order. */
export async function standInRequests(match: string): Promise<StandInRequest[]> {
  const res = await fetch(`${env.SEND_API_STANDIN_URL}/__requests?match=${encodeURIComponent(match)}`);
  return (await res.json()) as StandInRequest[];
}

/** The next `times` requests containing `match` get `status`. */
export async function failNext(match: string, status: number, times = 1): Promise<void> {
  await fetch(
    `${env.SEND_API_STANDIN_URL}/__fail?match=${encodeURIComponent(match)}&status=${status}&times=${times}`,
    { method: "POST" },
  );
}

/** The account's confirmation rows, oldest first. */
export async function confirmationRows(accountId: string) {
  const { results } = await env.DB.prepare(
    `SELECT subject, provider, state, attempts, last_error AS lastError FROM outbound_confirmations
    WHERE account_id = ? ORDER BY id`,
  )
    .bind(accountId)
    .all<{ subject: string; provider: string; state: string; attempts: number; lastError: string | null }>();
  return results;
}

/**
 * Waits until the account has no confirmation left to send now (every row sent, failed or
 * unknown) and its writer is idle; retries wait for their backoff, so this can take seconds.
 */
export async function confirmationsSettled(accountId: string, timeoutMs = 20_000): Promise<void> {
  const writer = env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(accountId));
  const until = Date.now() + timeoutMs;
  for (;;) {
    await writer.confirmationsSettled();
    const open = (await confirmationRows(accountId)).filter(
      (r) => r.state === "pending" || r.state === "sending",
    );
    if (open.length === 0) return;
    if (Date.now() > until) throw new Error(`confirmations still open: ${JSON.stringify(open)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
