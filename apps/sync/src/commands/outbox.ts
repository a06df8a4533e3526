import { type Config, describeDatabase } from "../config.ts";
import { openDatabase } from "../db/open.ts";
import { insertOutbox } from "../db/queries/outbox.ts";
import { EXIT } from "../errors.ts";
import type { Logger } from "../log.ts";
import { pushableChange } from "../outbox/pushable-change.ts";

export interface OutboxOptions {
  account?: string;
  address?: string;
  channel?: string;
  sender?: string;
  reason?: string;
  "occurred-at"?: string;
}

/**
 * `block` / `unblock`: one row into the outbox, exactly what an operator's own system would
 * INSERT. The running daemon pushes it to the edge; nothing here talks to the edge.
 */
export async function outboxCommand(
  command: "block" | "unblock",
  options: OutboxOptions,
  config: Config,
  log: Logger,
): Promise<number> {
  // Validated as the push will validate it, so a change the edge must not get is never queued.
  const change = pushableChange(new Date()).safeParse({
    id: "unused",
    accountId: options.account,
    address: options.address,
    channel: options.channel ?? "*",
    scope: options.sender ? { type: "sender", sender: options.sender } : { type: "account" },
    action: command === "block" ? "opt_out" : "opt_in",
    occurredAt: options["occurred-at"] ?? new Date().toISOString(),
    ...(options.reason ? { reason: options.reason } : {}),
  });
  if (!change.success) {
    const names: Record<string, string> = {
      accountId: "--account",
      address: "--address",
      channel: "--channel",
      scope: "--sender",
      occurredAt: "--occurred-at",
      reason: "--reason",
    };
    const lines = change.error.issues.map(
      (i) => `  ${names[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`,
    );
    process.stderr.write(
      `optout-sync: invalid ${command}:\n${lines.join("\n")}\nRun 'optout-sync ${command} --help' for usage.\n`,
    );
    return EXIT.usage;
  }
  const c = change.data;
  const database = await openDatabase(config.database, { log, maxConnections: 1 });
  try {
    const [row] = await insertOutbox(database.db, {
      changes: [
        {
          accountId: c.accountId,
          address: c.address,
          channel: c.channel,
          scope: c.scope,
          action: c.action,
          occurredAt: c.occurredAt,
          reason: c.reason ?? null,
        },
      ],
    });
    log.info({ outboxId: row?.id, changeId: row?.changeId, action: c.action }, "outbox row added");
    process.stdout.write(
      `queued ${command} as outbox row ${row?.id} (change ${row?.changeId}) in ${describeDatabase(config.database)}; ` +
        "the running daemon pushes it to the edge\n",
    );
    return EXIT.ok;
  } finally {
    await database.close();
  }
}
