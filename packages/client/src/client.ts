import { errorFromResponse, OptoutError } from "./errors.ts";
import { backoffMs, MAX_RETRY_AFTER_MS, RETRYABLE_STATUSES, retryAfterMs, sleep } from "./retry.ts";
import type {
  AddToBlocklistInput,
  BlocklistEntry,
  BlocklistPage,
  BlocklistQuery,
  CheckInput,
  CheckItem,
  CheckManyResult,
  CheckResult,
  ConsentEvent,
  Consistency,
  Evidence,
  EvidenceVerification,
  Link,
  MessageEvent,
  MintLinkInput,
  PostEventsResult,
  RemoveFromBlocklistInput,
  RemoveResult,
  SuccessBody,
} from "./types.ts";

export interface OptoutClientOptions {
  /** The edge's origin, e.g. `https://optout.example.com` (a path prefix is kept). */
  baseUrl: string | URL;
  /** An account API key (`sk_live_…` or `sk_test_…`). */
  apiKey: string;
  /** The fetch to use; defaults to the runtime's global `fetch`. */
  fetch?: typeof fetch;
  /**
   * How many times a call is retried after a 429 or 503 answer, a network failure or a timeout
   * (default 2, so at most 3 attempts; 0 never retries). Other errors are never retried.
   */
  retries?: number;
  /** How long one attempt may take, answer body included (default 10 000 ms). */
  timeoutMs?: number;
}

export interface RequestOptions {
  /** Aborts the call, retries and waits included; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface CheckManyOptions extends RequestOptions {
  consistency?: Consistency;
}

/**
 * A page of a list and, with `for await`, every item from that page on, fetching the next pages
 * as it goes. The first page is requested at once.
 */
export type PagePromise<Page, Item> = Promise<Page> & AsyncIterable<Item>;

interface Call {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** The edge accepts at most this many items in one `POST /v1/check`. */
const CHECK_BATCH_LIMIT = 1000;
const DEFAULT_RETRIES = 2;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The optout edge API for an account: `/v1/*` over `fetch`. Uses only `fetch`, `URL`,
 * `AbortController` and `setTimeout`, so it runs in Node ≥ 20, browsers, Workers, Deno and Bun.
 */
export class OptoutClient {
  readonly #baseUrl: URL;
  readonly #authorization: string;
  readonly #fetch: typeof fetch;
  readonly #retries: number;
  readonly #timeoutMs: number;

  constructor(options: OptoutClientOptions) {
    const base = new URL(options.baseUrl);
    // Paths are resolved relative to the base: keep its path prefix (https://host/optout/ + v1/check).
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#baseUrl = base;
    if (!options.apiKey) throw new TypeError("OptoutClient: apiKey is required");
    this.#authorization = `Bearer ${options.apiKey}`;
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== "function")
      throw new TypeError("OptoutClient: no fetch in this runtime; pass one");
    // Unbound, the global fetch throws "Illegal invocation" in browsers and Workers.
    this.#fetch = options.fetch ?? fetchFn.bind(globalThis);
    this.#retries = integerAtLeast(0, options.retries ?? DEFAULT_RETRIES, "retries");
    this.#timeoutMs = integerAtLeast(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs");
  }

  /** May `sender` message `address` on `channel`? `GET /v1/check` (operation `checkSend`). */
  check(input: CheckInput, options: RequestOptions = {}): Promise<CheckResult> {
    return this.#request<SuccessBody<"checkSend">>("GET", "v1/check", { query: { ...input }, ...options });
  }

  /**
   * Checks many sends; results in input order, an unreadable address as `{ address, error }` in
   * its place. More than 1,000 items go as consecutive batches. `POST /v1/check` (`checkSendBatch`).
   */
  async checkMany(items: readonly CheckItem[], options: CheckManyOptions = {}): Promise<CheckManyResult[]> {
    const { consistency, signal } = options;
    const results: CheckManyResult[] = [];
    for (let start = 0; start < items.length; start += CHECK_BATCH_LIMIT) {
      const page = await this.#request<SuccessBody<"checkSendBatch">>("POST", "v1/check", {
        body: {
          items: items.slice(start, start + CHECK_BATCH_LIMIT),
          ...(consistency ? { consistency } : {}),
        },
        signal,
      });
      results.push(...page.results);
    }
    return results;
  }

  readonly blocklist = {
    /** Blocks an address (an `opt_out` event); an active entry is returned as it is. `addToBlocklist`. */
    add: (input: AddToBlocklistInput, options: RequestOptions = {}): Promise<BlocklistEntry> =>
      this.#request<SuccessBody<"addToBlocklist">>("POST", "v1/blocklist", { body: input, ...options }),

    /** Unblocks it (an `opt_in` event); `removed: false` if it was not active. `removeFromBlocklist`. */
    remove: (input: RemoveFromBlocklistInput, options: RequestOptions = {}): Promise<RemoveResult> =>
      this.#request<SuccessBody<"removeFromBlocklist">>("DELETE", "v1/blocklist", {
        body: input,
        ...options,
      }),

    /**
     * Active entries, oldest first: `await` it for one page (`{ items, nextCursor }`), or
     * `for await` over it for every entry. `cursor` starts after a page you have. `listBlocklist`.
     */
    list: (
      query: BlocklistQuery & { cursor?: string } = {},
      options: RequestOptions = {},
    ): PagePromise<BlocklistPage, BlocklistEntry> =>
      this.#paginate(
        (cursor) =>
          this.#request<SuccessBody<"listBlocklist">>("GET", "v1/blocklist", {
            query: { ...query, cursor },
            ...options,
          }),
        query.cursor,
      ),

    /** Every active entry matching `query`, page after page: `for await (const entry of ...all())`. */
    all: (query: BlocklistQuery = {}, options: RequestOptions = {}): AsyncIterable<BlocklistEntry> =>
      this.blocklist.list(query, options),
  };

  readonly links = {
    /** An opt-out link for one address: `{ code, url, expiresAt }`. `mintLink`. */
    mint: (input: MintLinkInput, options: RequestOptions = {}): Promise<Link> =>
      this.#request<SuccessBody<"mintLink">>("POST", "v1/links", { body: input, ...options }),

    /** Up to 1,000 links in input order, all or nothing. `mintLinkBatch`. */
    mintBatch: async (items: readonly MintLinkInput[], options: RequestOptions = {}): Promise<Link[]> => {
      const batch = await this.#request<SuccessBody<"mintLinkBatch">>("POST", "v1/links/batch", {
        body: { items },
        ...options,
      });
      return batch.items;
    },
  };

  readonly events = {
    /**
     * Records message events (up to 1,000, all or nothing; idempotent by messageId and type) and
     * fires the trigger rules they match. `recordMessageEvents`.
     */
    post: (events: readonly MessageEvent[], options: RequestOptions = {}): Promise<PostEventsResult> =>
      this.#request<SuccessBody<"recordMessageEvents">>("POST", "v1/events", {
        body: { events },
        ...options,
      }),
  };

  readonly evidence = {
    /** The address's ledger events and whether the account's hash chain verifies. `getEvidence`. */
    get: (address: string, options: RequestOptions = {}): Promise<Evidence> =>
      this.#request<SuccessBody<"getEvidence">>("GET", "v1/evidence", { query: { address }, ...options }),

    /** Checks a kept copy of events against the ledger. `verifyEvidence`. */
    verify: (events: readonly ConsentEvent[], options: RequestOptions = {}): Promise<EvidenceVerification> =>
      this.#request<SuccessBody<"verifyEvidence">>("POST", "v1/evidence/verify", {
        body: { events },
        ...options,
      }),
  };

  #paginate<Page extends { items: Item[]; nextCursor: string | null }, Item>(
    fetchPage: (cursor: string | undefined) => Promise<Page>,
    startCursor: string | undefined,
  ): PagePromise<Page, Item> {
    const first = fetchPage(startCursor);
    return Object.assign(first, {
      async *[Symbol.asyncIterator]() {
        let page = await first;
        for (;;) {
          yield* page.items;
          if (page.nextCursor === null) return;
          page = await fetchPage(page.nextCursor);
        }
      },
    });
  }

  /**
   * One API call: retried on 429/503 (after `Retry-After` when given, else a jittered backoff), on
   * network failures and on timeouts, at most `retries` times; every other error at once.
   */
  async #request<T>(method: string, path: string, call: Call): Promise<T> {
    const url = new URL(path, this.#baseUrl);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: "application/json",
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const init: RequestInit = {
      method,
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    };

    for (let retry = 0; ; retry++) {
      const outcome = await this.#attempt(url, init, call.signal);
      if ("answer" in outcome && outcome.answer.status >= 200 && outcome.answer.status < 300) {
        return (outcome.answer.text ? JSON.parse(outcome.answer.text) : undefined) as T;
      }
      let error: OptoutError;
      let wait: number | undefined;
      if ("failure" in outcome) {
        error = outcome.failure;
      } else {
        const { status, headers, text } = outcome.answer;
        error = errorFromResponse(status, headers.get("x-request-id"), text);
        if (!RETRYABLE_STATUSES.has(status)) throw error;
        wait = retryAfterMs(headers.get("retry-after"), Date.now());
        if (wait !== undefined && wait > MAX_RETRY_AFTER_MS) throw error;
      }
      if (retry >= this.#retries) throw error;
      await sleep(wait ?? backoffMs(retry + 1), call.signal);
    }
  }

  /** One attempt, answer body included, within `timeoutMs`; the caller's abort is rethrown as is. */
  async #attempt(
    url: URL,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<{ answer: { status: number; headers: Headers; text: string } } | { failure: OptoutError }> {
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await this.#fetch(url, { ...init, signal: controller.signal });
      const text = await res.text();
      return { answer: { status: res.status, headers: res.headers, text } };
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        return {
          failure: new OptoutError({
            code: "timeout",
            status: 0,
            message: `${init.method} ${url.pathname}: no answer within ${this.#timeoutMs} ms`,
            cause,
          }),
        };
      }
      return {
        failure: new OptoutError({
          code: "network_error",
          status: 0,
          message: `${init.method} ${url.pathname}: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause,
        }),
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

function integerAtLeast(min: number, value: number, name: string): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`OptoutClient: ${name} must be an integer of at least ${min}`);
  }
  return value;
}
