/**
 * How a route reaches an account's writer: one RPC to the account's Durable Object, which answers
 * when the op is committed. A refusal becomes its 4xx; a failure is a 503 the caller may retry
 * (every op is safe to repeat: API changes skip what is already so, webhooks and sync changes
 * are deduplicated, message events are idempotent).
 */
import { ApiError } from "../lib/errors.ts";
import { errorName, log } from "../lib/log.ts";
import type { WriteOp, WriteResult } from "./ops.ts";

export async function commitWrite<K extends WriteOp["kind"]>(
  env: Pick<Env, "LEDGER_WRITER">,
  accountId: string,
  op: Extract<WriteOp, { kind: K }>,
): Promise<Extract<WriteResult, { kind: K }>> {
  const writer = env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(accountId));
  let answer: Awaited<ReturnType<typeof writer.commit>>;
  try {
    answer = await writer.commit(accountId, op);
  } catch (err) {
    log.error("writer_unavailable", { accountId, kind: op.kind, error: errorName(err) });
    throw unavailable();
  }
  if (!answer.ok && "failed" in answer) {
    log.error("writer_commit_failed", { accountId, kind: op.kind, error: answer.failed });
    throw unavailable();
  }
  if (!answer.ok) throw new ApiError(answer.refusal.status, answer.refusal.code, answer.refusal.message);
  return answer.result as Extract<WriteResult, { kind: K }>;
}

const unavailable = () =>
  new ApiError(503, "busy", "the change could not be committed right now; retry (retrying is safe)");
