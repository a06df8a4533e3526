import type { ErrorKind } from "./errors.ts";

/**
 * The daemon's metrics, rendered by hand in the Prometheus text exposition format (version
 * 0.0.4): a few counters, gauges and two histograms need no client library. Names follow
 * Prometheus conventions (`_total` counters, base units: seconds).
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  readonly counts = BUCKETS.map(() => 0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]!++;
  }
}

export class Metrics {
  readonly startedAt = Date.now();
  cursor = 0;
  /** Edge head minus cursor; null until known. */
  lagChanges: number | null = null;
  lagSeconds: number | null = null;
  appliedEvents = 0;
  ownEvents = 0;
  appliedBatches = 0;
  pushedChanges = 0;
  pushBatches = 0;
  rejectedChanges = 0;
  outboxPending: number | null = null;
  /** Date.now() of the last successful poll of the feed (0: none yet). */
  lastPollAt = 0;
  readonly errors = new Map<ErrorKind, number>();
  readonly pullDuration = new Histogram();
  readonly pushDuration = new Histogram();

  error(kind: ErrorKind): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    const one = (name: string, type: string, help: string, value: number | null) => {
      if (value !== null) metric(name, type, help, [`${name} ${value}`]);
    };
    const histogram = (name: string, h: Histogram, labels: string) => [
      ...BUCKETS.map((b, i) => `${name}_bucket{${labels},le="${b}"} ${h.counts[i]}`),
      `${name}_bucket{${labels},le="+Inf"} ${h.count}`,
      `${name}_sum{${labels}} ${h.sum}`,
      `${name}_count{${labels}} ${h.count}`,
    ];
    one("optout_sync_cursor_seq", "gauge", "Last ledger seq applied to the primary database.", this.cursor);
    one(
      "optout_sync_lag_changes",
      "gauge",
      "Changes at the edge not yet applied (edge head seq minus cursor).",
      this.lagChanges,
    );
    one(
      "optout_sync_lag_seconds",
      "gauge",
      "Age of the newest applied change while behind the edge; 0 when caught up.",
      this.lagSeconds,
    );
    one(
      "optout_sync_applied_events_total",
      "counter",
      "Ledger events applied from the edge's change feed.",
      this.appliedEvents,
    );
    one(
      "optout_sync_own_events_total",
      "counter",
      "Applied events that were this database's own outbox changes coming back (never re-sent).",
      this.ownEvents,
    );
    one("optout_sync_applied_batches_total", "counter", "Feed batches committed.", this.appliedBatches);
    one(
      "optout_sync_pushed_changes_total",
      "counter",
      "Outbox changes acknowledged by the edge.",
      this.pushedChanges,
    );
    one("optout_sync_push_batches_total", "counter", "Outbox batches acknowledged.", this.pushBatches);
    one(
      "optout_sync_outbox_rejected_total",
      "counter",
      "Outbox rows rejected for good (invalid, or refused by the edge).",
      this.rejectedChanges,
    );
    one("optout_sync_outbox_pending", "gauge", "Outbox rows not yet sent.", this.outboxPending);
    metric(
      "optout_sync_errors_total",
      "counter",
      "Failed sync steps by error kind (each was retried unless fatal).",
      [...this.errors].map(([kind, n]) => `optout_sync_errors_total{kind="${kind}"} ${n}`),
    );
    metric(
      "optout_sync_batch_duration_seconds",
      "histogram",
      "Time to fetch-verify-apply or push one batch.",
      [
        ...histogram("optout_sync_batch_duration_seconds", this.pullDuration, 'direction="pull"'),
        ...histogram("optout_sync_batch_duration_seconds", this.pushDuration, 'direction="push"'),
      ],
    );
    one(
      "optout_sync_last_poll_timestamp_seconds",
      "gauge",
      "Unix time of the last successful poll of the edge's feed.",
      this.lastPollAt ? this.lastPollAt / 1000 : 0,
    );
    one(
      "optout_sync_start_timestamp_seconds",
      "gauge",
      "Unix time the daemon started.",
      this.startedAt / 1000,
    );
    return `${out.join("\n")}\n`;
  }
}
