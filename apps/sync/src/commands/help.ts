/** Help texts: what each command does, its options, and the environment it reads. */

const ENV = `Environment:
  EDGE_URL             the edge's base URL                     (default http://127.0.0.1:8787)
  EDGE_ALLOW_HTTP      true: allow plain http:// to a host that is not loopback
                       (SYNC_TOKEN then travels in clear)      (default false)
  SYNC_TOKEN           the edge's SYNC_TOKEN secret            (required)
  DATABASE_URL         postgres://user:pass@host:5432/db       (unset: embedded PGlite)
  SYNC_DATA_DIR        where PGlite keeps its files            (default ./.data)
  PG_STATEMENT_TIMEOUT_MS  PostgreSQL statement_timeout; 0 = off (default 60000; not PGlite)
  BATCH_SIZE           changes fetched and applied per batch   (default 1000, at most 1000)
  POLL_INTERVAL_MS     wait between polls once caught up       (default 1000)
  APPLY_MAX_EVENTS     most events per transaction while behind (default 5000: pages merged)
  REQUEST_TIMEOUT_MS   timeout of one request to the edge      (default 30000)
  RETRY_MAX_DELAY_MS   longest wait between retries            (default 30000)
  SHUTDOWN_TIMEOUT_MS  how long SIGTERM waits for the batch    (default 10000)
  HTTP_PORT            /health, /ready, /metrics port; 0 = off   (default 9464; alias METRICS_PORT)
  HTTP_HOST            address the HTTP port listens on         (default 127.0.0.1)
  READY_MAX_POLL_AGE_MS  /ready fails when the last poll is older (default 30000)
  LOG_LEVEL            fatal|error|warn|info|debug|trace|silent (default info)`;

const OUTBOX_OPTIONS = `Options:
  --account <id>         the edge account id                           (required)
  --address <address>    phone number (E.164, or national with the account's region) or email (required)
  --channel <channel>    sms | whatsapp | email | voice | *             (default *)
  --sender <sender>      sender scope: only this sender; without it the whole account
  --reason <text>        why, recorded in the ledger's evidence
  --occurred-at <time>   ISO-8601 instant with offset, at most 15 minutes ahead (default now)`;

export const HELP: Record<string, string> = {
  main: `optout-sync — applies the optout edge's change feed to your PostgreSQL database, exactly once.

Usage: optout-sync <command> [options]

Commands:
  run      follow the change feed continuously (the daemon)
  once     apply everything the edge has, then exit
  status   show the cursor, the edge's head and the lag
  verify   compare the edge and the primary database; exit 4 on any difference
  backfill load the whole feed into an empty database, with progress
  block    queue an opt-out in the outbox (pushed to the edge by run/once)
  unblock  queue an opt-in (removal) in the outbox
  import   import a blocklist file (CSV or NDJSON) into an account, resumable
  export   export an account's active entries as CSV or NDJSON

Options:
  -h, --help   show help (also: optout-sync <command> --help)

${ENV}

Exit codes: 0 ok · 1 failed (edge or database unusable, retries exhausted) · 2 bad usage or
configuration · 3 the feed does not verify (gap in seq or broken hash chain): sync stopped ·
4 verify found differences.
Logs are JSON lines on stderr; command output goes to stdout.`,

  run: `Usage: optout-sync run

Follows the change feed: applies every new change in batches of BATCH_SIZE, each batch and the
new cursor in one PostgreSQL transaction, then polls every POLL_INTERVAL_MS. At the same time
pushes the outbox (optout.outbox) to the edge, marking rows sent once the edge acknowledged them.
Serves /health, /ready and /metrics (Prometheus) on HTTP_PORT. Edge or database
outages are retried with capped exponential backoff and jitter, for as long as they last.
SIGTERM or SIGINT lets the batch in flight commit and exits 0 (within SHUTDOWN_TIMEOUT_MS).
A gap in seq or a broken hash chain stops the sync with exit code 3.

${ENV}`,

  once: `Usage: optout-sync once

Pushes every pending outbox row to the edge, then applies every change the edge has after the
stored cursor, then exits 0 and prints a summary.
Transient failures are retried a few times (about a minute at most) before exiting 1.
A gap in seq or a broken hash chain exits 3 with a message that says where.

${ENV}`,

  status: `Usage: optout-sync status [--json]

Prints the cursor (last applied seq), the edge's head seq, the lag in changes and the age of
the oldest change not yet applied, and the outbox backlog: rows pending (not yet acknowledged by
the edge) with the age of the oldest, and rows rejected for good. Exits 1 when the edge or the
database cannot be reached.
With the embedded database (PGlite), the cursor cannot be read while another optout-sync
process has the database open.

Options:
  --json   print one JSON object instead of text

${ENV}`,

  verify: `Usage: optout-sync verify [--json]

Compares the edge with the primary database: per account the number of ledger events and the
ledger head (last seq and hash), every ledger event the database holds, field by field, the
cursor against the edge's head, and every blocklist entry's state (the edge's, recomputed from
its feed by the ordering rule). Lists every difference (without addresses).
Exits 0 when there is none, 4 when there is any, 1 when either side cannot be read (after
retries, as in 'once'). Reads the whole feed: about 9 s per 100,000 changes from a local edge,
and 1-2 s more to compare the database's copy.

Options:
  --json   print one JSON object instead of text

${ENV}`,

  backfill: `Usage: optout-sync backfill

Loads the edge's whole feed into an empty database, with a progress bar on a terminal and a
plain progress line every 5 s otherwise. Same batches and transactions as 'run': kill it at any
moment and run 'backfill' again to resume. Refuses (exit 2) a database that 'run' or 'once'
already filled; use those to bring it up to date.

${ENV}`,

  block: `Usage: optout-sync block --account <id> --address <address> [options]

Adds an opt-out to the outbox (optout.outbox), as your own systems would with an INSERT. The
running daemon ('run', or the next 'once') pushes it to the edge, where it is recorded as a
'primary' ledger event; it reaches optout.blocklist_entries when it comes back through the feed.

${OUTBOX_OPTIONS}

${ENV}`,

  import: `Usage: optout-sync import FILE [--format csv|ndjson] [--edge URL] [--key KEY] [--json]

Imports a blocklist file into the account the API key belongs to (POST /v1/blocklist/import):
every readable row blocks its address (a ledger event with source 'import'), rows already
blocked that way are counted unchanged, unreadable rows are refused and listed with their row
numbers. CSV needs a header line (address or phone/email, and optionally channel, scope or
sender, reason, occurredAt or date); NDJSON is one object per line with the same names.
The file is named by its SHA-256: a run that is cut resumes where the edge stopped (retried up
to 6 times; or run the same command again), and importing a file again changes nothing.
Progress: a bar on a terminal, a line every 100,000 rows otherwise; the report goes to stdout.
Exits 0 when the import is complete (even with refused rows), 1 when it could not finish.

Options:
  --format <csv|ndjson>  the file's format          (default: from its extension)
  --edge <url>           the edge's base URL          (default: EDGE_URL)
  --key <key>            the account's API key        (default: OPTOUT_API_KEY)
  --json                 print the report as one JSON object

Environment: EDGE_URL, EDGE_ALLOW_HTTP, OPTOUT_API_KEY (the account's API key, sk_live_… or
sk_test_…; SYNC_TOKEN is not used), REQUEST_TIMEOUT_MS, LOG_LEVEL.`,

  export: `Usage: optout-sync export [--format csv|ndjson] [--output FILE] [--edge URL] [--key KEY]

Streams the account's active entries (GET /v1/blocklist/export) to FILE (written as FILE.partial
and renamed when complete) or to stdout, in the columns import reads (address, channel, scope,
reason, occurredAt): an export imports again, as unchanged rows.

Options:
  --format <csv|ndjson>  (default: from --output's extension, else csv)
  -o, --output <file>    where to write                (default: stdout)
  --edge <url>           the edge's base URL          (default: EDGE_URL)
  --key <key>            the account's API key        (default: OPTOUT_API_KEY)

Environment: EDGE_URL, EDGE_ALLOW_HTTP, OPTOUT_API_KEY, LOG_LEVEL.`,

  unblock: `Usage: optout-sync unblock --account <id> --address <address> [options]

Adds an opt-in (removes the entry) to the outbox; see 'optout-sync block --help'.

${OUTBOX_OPTIONS}

${ENV}`,
};
