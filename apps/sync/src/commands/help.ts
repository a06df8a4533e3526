/** Help texts: what each command does, its options, and the environment it reads. */

const ENV = `Environment:
  EDGE_URL             the edge's base URL                     (default http://127.0.0.1:8787)
  SYNC_TOKEN           the edge's SYNC_TOKEN secret            (required)
  DATABASE_URL         postgres://user:pass@host:5432/db       (unset: embedded PGlite)
  SYNC_DATA_DIR        where PGlite keeps its files            (default ./.data)
  BATCH_SIZE           changes fetched and applied per batch   (default 1000, at most 1000)
  POLL_INTERVAL_MS     wait between polls once caught up       (default 1000)
  REQUEST_TIMEOUT_MS   timeout of one request to the edge      (default 30000)
  RETRY_MAX_DELAY_MS   longest wait between retries            (default 30000)
  SHUTDOWN_TIMEOUT_MS  how long SIGTERM waits for the batch    (default 10000)
  LOG_LEVEL            fatal|error|warn|info|debug|trace|silent (default info)`;

export const HELP: Record<string, string> = {
  main: `optout-sync — applies the optout edge's change feed to your PostgreSQL database, exactly once.

Usage: optout-sync <command> [options]

Commands:
  run      follow the change feed continuously (the daemon)
  once     apply everything the edge has, then exit
  status   show the cursor, the edge's head and the lag

Options:
  -h, --help   show help (also: optout-sync <command> --help)

${ENV}

Exit codes: 0 ok · 1 failed (edge or database unusable, retries exhausted) · 2 bad usage or
configuration · 3 the feed does not verify (gap in seq or broken hash chain): sync stopped.
Logs are JSON lines on stderr; command output goes to stdout.`,

  run: `Usage: optout-sync run

Follows the change feed: applies every new change in batches of BATCH_SIZE, each batch and the
new cursor in one PostgreSQL transaction, then polls every POLL_INTERVAL_MS. Edge or database
outages are retried with capped exponential backoff and jitter, for as long as they last.
SIGTERM or SIGINT lets the batch in flight commit and exits 0 (within SHUTDOWN_TIMEOUT_MS).
A gap in seq or a broken hash chain stops the sync with exit code 3.

${ENV}`,

  once: `Usage: optout-sync once

Applies every change the edge has after the stored cursor, then exits 0 and prints a summary.
Transient failures are retried a few times (about a minute at most) before exiting 1.
A gap in seq or a broken hash chain exits 3 with a message that says where.

${ENV}`,

  status: `Usage: optout-sync status [--json]

Prints the cursor (last applied seq), the edge's head seq, the lag in changes and the age of
the oldest change not yet applied. Exits 1 when the edge or the database cannot be reached.
With the embedded database (PGlite), the cursor cannot be read while another optout-sync
process has the database open.

Options:
  --json   print one JSON object instead of text

${ENV}`,
};
