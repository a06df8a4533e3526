import { type Config, describeDatabase, requireSyncToken } from "../config.ts";
import { openDatabase } from "../db/open.ts";
import { readCursor } from "../db/queries/cursor.ts";
import { outboxStats } from "../db/queries/outbox.ts";
import { EdgeClient } from "../edge-client.ts";
import { EXIT } from "../errors.ts";
import { FEED_CURSOR } from "../feed/sync-feed.ts";
import { describeError, type Logger } from "../log.ts";

export interface SyncStatus {
  edgeUrl: string;
  database: string;
  cursor: { lastSeq: number; updatedAt: string | null } | { error: string };
  edge: { headSeq: number; oldestPendingRecordedAt: string | null } | { error: string };
  lag: { changes: number; seconds: number | null } | null;
  /** The primary's changes waiting to be pushed to the edge (`optout.outbox`). */
  outbox:
    | {
        pending: number;
        rejected: number;
        oldestPendingAt: string | null;
        oldestPendingAgeSeconds: number | null;
      }
    | { error: string };
}

/** Reads where the sync stands; never writes (beyond creating the schema on first use). */
export async function readStatus(config: Config, log: Logger): Promise<SyncStatus> {
  const token = requireSyncToken(config);
  const status: SyncStatus = {
    edgeUrl: config.edgeUrl,
    database: describeDatabase(config.database),
    cursor: { error: "not read" },
    edge: { error: "not read" },
    lag: null,
    outbox: { error: "not read" },
  };
  try {
    const database = await openDatabase(config.database, { log, maxConnections: 1 });
    try {
      const row = await readCursor(database.db, { name: FEED_CURSOR });
      status.cursor = {
        lastSeq: row?.lastSeq ?? 0,
        updatedAt: row && row.lastSeq > 0 ? new Date(row.updatedAt).toISOString() : null,
      };
      const backlog = await outboxStats(database.db);
      const oldest = backlog.oldestPendingAt === null ? null : new Date(backlog.oldestPendingAt);
      status.outbox = {
        pending: backlog.pending,
        rejected: backlog.rejected,
        oldestPendingAt: oldest?.toISOString() ?? null,
        oldestPendingAgeSeconds: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : null,
      };
    } finally {
      await database.close();
    }
  } catch (e) {
    const message = describeError(e).message;
    if ("error" in status.cursor) status.cursor = { error: message };
    status.outbox = { error: message };
  }
  const edge = new EdgeClient({ baseUrl: config.edgeUrl, token, timeoutMs: config.requestTimeoutMs });
  const from = "lastSeq" in status.cursor ? status.cursor.lastSeq : 0;
  try {
    const headSeq = await edge.head(from);
    const next = await edge.changes({ after: from, limit: 1 });
    status.edge = { headSeq, oldestPendingRecordedAt: next.changes[0]?.recordedAt ?? null };
    if ("lastSeq" in status.cursor) {
      const pendingSince = status.edge.oldestPendingRecordedAt;
      status.lag = {
        changes: headSeq - status.cursor.lastSeq,
        seconds: pendingSince ? Math.max(0, (Date.now() - Date.parse(pendingSince)) / 1000) : 0,
      };
    }
  } catch (e) {
    status.edge = { error: describeError(e).message };
  }
  return status;
}

export function formatStatus(s: SyncStatus): string {
  const cursor =
    "error" in s.cursor
      ? `unknown — ${s.cursor.error}`
      : `seq ${s.cursor.lastSeq}${s.cursor.updatedAt ? ` (moved ${s.cursor.updatedAt})` : " (nothing applied yet)"}`;
  const edge = "error" in s.edge ? `unknown — ${s.edge.error}` : `seq ${s.edge.headSeq}`;
  let lag = "unknown";
  if (s.lag) {
    lag =
      s.lag.changes === 0
        ? "none — caught up"
        : s.lag.changes < 0
          ? `the cursor is ${-s.lag.changes} change(s) AHEAD of the edge: was the edge's database reset?`
          : `${s.lag.changes} change(s); oldest pending recorded ${s.lag.seconds?.toFixed(1)} s ago`;
  }
  let outbox: string;
  if ("error" in s.outbox) outbox = `unknown — ${s.outbox.error}`;
  else {
    const o = s.outbox;
    const pending =
      o.pending === 0
        ? "nothing pending"
        : `${o.pending} pending, oldest created ${o.oldestPendingAgeSeconds?.toFixed(1)} s ago`;
    outbox = `${pending}; ${o.rejected} rejected${o.rejected > 0 ? " (see last_error in optout.outbox)" : ""}`;
  }
  return [
    `edge      ${s.edgeUrl}`,
    `database  ${s.database}`,
    `cursor    ${cursor}`,
    `head      ${edge}`,
    `lag       ${lag}`,
    `outbox    ${outbox}`,
    "",
  ].join("\n");
}

export async function statusCommand(
  config: Config,
  log: Logger,
  options: { json: boolean },
): Promise<number> {
  const status = await readStatus(config, log);
  process.stdout.write(options.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return "error" in status.cursor || "error" in status.edge ? EXIT.failed : EXIT.ok;
}
