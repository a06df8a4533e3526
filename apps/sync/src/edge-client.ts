import { ChangesPage, type ConsentEvent, MAX_PAGE, SyncApplyResult, type SyncChange } from "@optout/core";
import { EdgeHttpError, SyncError } from "./errors.ts";

export interface EdgeClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/**
 * The edge's sync API. Every transport failure comes out as a SyncError whose kind says
 * what happened (network, timeout, status), so callers can decide whether to retry.
 */
export class EdgeClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: EdgeClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Ledger events after `after`, in seq order, at most `limit` (≤ 1000). */
  async changes(params: { after: number; limit: number }, signal?: AbortSignal): Promise<ChangesPage> {
    const limit = Math.min(Math.max(1, params.limit), MAX_PAGE);
    const body = await this.#getJson(`/v1/changes?after=${params.after}&limit=${limit}`, signal);
    const parsed = ChangesPage.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SyncError(
        "edge_bad_response",
        `the edge's /v1/changes answer is not a change page (${issue?.path.join(".")}: ${issue?.message}); is EDGE_URL an optout edge of a compatible version?`,
        false,
      );
    }
    // zod rebuilds a record member by member, and a member named `__proto__` assigned that way
    // sets the prototype instead: it would vanish, and the event no longer match its hash. The
    // evidence was checked to be an object; keep the one JSON.parse made (own members only).
    const sent = (body as { changes: Array<{ evidence: ConsentEvent["evidence"] }> }).changes;
    return {
      ...parsed.data,
      changes: parsed.data.changes.map((e, i) => ({ ...e, evidence: sent[i]!.evidence })),
    };
  }

  /**
   * Records changes made in the primary database (≤ 1000), idempotent by change id: a resend
   * answers with the seqs of the first time. Results come back in input order.
   */
  async apply(changes: SyncChange[], signal?: AbortSignal): Promise<SyncApplyResult["results"]> {
    const body = await this.#getJson("/v1/sync/apply", signal, { changes });
    const parsed = SyncApplyResult.safeParse(body);
    if (!parsed.success || parsed.data.results.length !== changes.length) {
      throw new SyncError(
        "edge_bad_response",
        "the edge's /v1/sync/apply answer is not one result per change; is EDGE_URL an optout edge of a compatible version?",
        false,
      );
    }
    return parsed.data.results;
  }

  /** Whether the edge answers `GET /health` with 2xx. Never throws. */
  async healthy(signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await this.#fetch(`${this.baseUrl}/health`, { signal: this.#signal(signal) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /**
   * The edge's last seq. Seqs are gap-free from 1, so "is there an event after x" is true
   * exactly below the head: gallop up from `from` with full pages, then bisect.
   */
  async head(from: number, signal?: AbortSignal): Promise<number> {
    const first = await this.changes({ after: from, limit: MAX_PAGE }, signal);
    const last = first.changes.at(-1)?.seq;
    if (last !== undefined && !first.hasMore) return last;
    if (last === undefined) {
      // Nothing after `from`: the head is `from` itself, or below it if the edge lost events.
      if (await this.#exists(from, signal)) return from;
      return this.#bisect(0, from, signal);
    }
    let below = last; // an event exists at `below`
    let step = MAX_PAGE;
    for (;;) {
      const probe = below + step;
      if (!(await this.#exists(probe, signal))) return this.#bisect(below, probe, signal);
      below = probe;
      step *= 2;
    }
  }

  /** Whether the edge has an event with this seq (given gap-free seqs from 1). */
  async #exists(seq: number, signal?: AbortSignal): Promise<boolean> {
    if (seq <= 0) return true;
    const page = await this.changes({ after: seq - 1, limit: 1 }, signal);
    return page.changes.length > 0;
  }

  /** Largest seq in [known, unknownAbove) that exists, where `known` exists (or is 0). */
  async #bisect(known: number, missing: number, signal?: AbortSignal): Promise<number> {
    let lo = known;
    let hi = missing;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.#exists(mid, signal)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  #signal(signal?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  /** GET `path`, or POST `body` as JSON to it when given. */
  async #getJson(path: string, signal?: AbortSignal, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.#signal(signal),
      });
      text = await res.text();
    } catch (e) {
      throw this.#transportError(e, signal);
    }
    if (!res.ok)
      throw new EdgeHttpError(
        res.status,
        describeHttpError(res.status, path, text, body === undefined ? "GET" : "POST"),
        text,
      );
    try {
      return JSON.parse(text);
    } catch {
      throw new SyncError(
        "edge_bad_response",
        `the edge answered ${path} with something that is not JSON`,
        false,
      );
    }
  }

  #transportError(e: unknown, signal?: AbortSignal): unknown {
    // The caller's stop signal: let the AbortError through untouched, it is not a failure.
    if (signal?.aborted) return e;
    if (
      (e as { name?: string })?.name === "TimeoutError" ||
      (e as { name?: string })?.name === "AbortError"
    ) {
      return new SyncError(
        "edge_timeout",
        `the edge did not answer within ${this.#timeoutMs} ms`,
        true,
        {},
        { cause: e },
      );
    }
    // fetch says only "fetch failed"; the socket error under it says why.
    const root = (e as { cause?: { code?: string; message?: string } })?.cause;
    const why = root?.code ?? root?.message ?? (e as Error)?.message ?? String(e);
    return new SyncError("edge_network", `cannot reach the edge at ${this.baseUrl} (${why})`, true);
  }
}

function describeHttpError(status: number, path: string, body: string, method: string): string {
  let detail = "";
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) detail = `: ${parsed.error.code ?? "error"} — ${parsed.error.message}`;
  } catch {
    // Not our error envelope (a proxy's HTML page, say); the status says enough.
  }
  const hint =
    status === 401 || status === 403
      ? " (SYNC_TOKEN is not the edge's SYNC_TOKEN secret)"
      : status === 404
        ? " (is EDGE_URL an optout edge?)"
        : "";
  return `the edge answered ${status} to ${method} ${path.split("?")[0]}${detail}${hint}`;
}
